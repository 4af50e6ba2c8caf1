"""Word lists of the language of denial, negation, hedging, states and figures, and `event_key`, which makes
one key of an event's forms. General English, not tuned to any data set."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.monitor.terms import STOP_WORDS, stem


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words whose presence says the reported claim is false, whatever claim it is.
_DEBUNK_WORDS = _words("""
    hoax hoaxes hoaxer hoaxers hoaxed fake fakes faked faking false falsely falsehood fabricated fabrication
    fabricating fabricate bogus untrue myth myths rubbish nonsense baseless unfounded groundless bullshit
    debunk debunks debunked debunking fiction fictional phony phoney sham spoof spoofed satire satirical
    doctored photoshopped misleading erroneous inaccurate incorrect mistaken wrongly retracts retracted
    retract retraction lie lies hogwash exaggerated overblown overstated duped fooled parody parodies
    misreported misquoted misinterpreted mistranslated misidentified misattributed unsubstantiated dubious
    implausible fictitious concocted prank pranks
    """)


# Dismissive only when aimed at a report: "calls selfie claims crazy", not "crazy video".
_DISMISSIVE = _words("absurd ridiculous crazy laughable preposterous silly ludicrous wrong")


# Weaker: the outlet doubts the claim rather than refutes it.
# ("Questions" is not one: "questions and answers about the recall", "faces tough questions" inquire, not doubt.)
_DOUBT_WORDS = _words("doubt doubts doubted doubtful skeptical sceptical unlikely")


# The verb "question" doubts what follows when that is a clause or a report: "questions whether the crater was
# made by a meteorite", "questions the reports".
_QUESTION_VERBS = _words("question questions questioned questioning")


# What a doubt aimed at a claim opens: "questions whether", "doubt that", "casts doubt on", "raises doubts about".
_DOUBT_COMPLEMENTS = _words("whether that if about over on")


_CONTINUING = _words("keep keeps kept")


# Of those, the adjectives doubt a claim only when predicative ("merger unlikely", "unlikely to happen"); before
# a noun they describe it ("the most unlikely pairs of shoes").
_DOUBT_ADJECTIVES = _words("doubtful skeptical sceptical unlikely")


# Verbs that deny whatever follows them.
_DENIAL_VERBS = _words("""
    deny denies denied denying denial denials refute refutes refuted refuting rubbishes rubbished
    quash quashes quashed dispel dispels dispelled scotch scotches scotched disavow disavows disavowed
    rebut rebuts rebutted backtrack backtracks backtracked
    """)


# Verbs that deny only when their object is a report ("rejects claims", "dismissed reports", "kills rumor").
_REPORT_DENIAL_VERBS = _words("""
    reject rejects rejected rejecting dismiss dismisses dismissed dismissing rebuff rebuffs rebuffed dispute
    disputes disputed disputing shoot shoots shot knock knocks knocked kill kills killed slam slams slammed
    contradict contradicts contradicted counter counters countered mock mocks mocked mocking ridicule ridicules
    ridiculed laugh laughs laughed pull pulls pulled withdraw withdraws withdrew withdrawn blast blasts blasted
    brush brushes brushed shrug shrugs shrugged downplay downplays downplayed squash squashes squashed nix nixes
    nixed correct corrects corrected contest contests contested challenge challenges challenged
    """)


# Nouns that stand for "what was reported"; they are never the event itself.
_REPORT_NOUNS = _words("""
    report reports claim claims rumor rumors rumour rumours story stories allegation allegations suggestion
    suggestions speculation assertion assertions account accounts notion idea theory theories news article
    articles headline headlines tale tales word talk
    """)


# The medium of a report, never the event: "video is fake", "photos show".
_MEDIA_NOUNS = _words("video videos photo photos picture pictures pics image images footage clip clips")


_PLAN_WORDS = _words("plan plans planning intention intentions intends intend intent")


_NEGATORS = _words("""
    not no never nobody none neither nor didnt doesnt dont isnt arent wasnt werent hasnt havent hadnt wont
    cant cannot couldnt wouldnt shouldnt aint
    """)


# After a negator these make it something other than the negation of an event ("not yet", "no doubt").
# "Isn't sure how", "not clear whether": uncertainty about something else, not the event denied.
# Idioms too: "no wonder", "no stranger to", "no secret", "make no mistake", "no joke", "no end in sight", and
# the hedges and intensifiers of praise: "not the first", "not alone", "not bad", "not your average", "not all",
# "not that different", "not too late", "not quite".
_NEGATION_BLOCKERS = _words("""
    yet only just matter doubt longer less more sooner sure certain clear aware wonder stranger secret mistake joke
    end problem idea surprise first alone bad kidding your afraid all everyone everything always quite that so too way
    very necessarily exactly question
    """)


# Verbs that say an event did not take place ("misses the wardrobe change", "failed to qualify", "refuses to talk"):
# what follows them is negated as surely as after "not", so a later "didn't make the change", "won't talk" agrees.
_FAILURE_VERBS = _words("misses missed fails failed lacks lacked skips skipped refuses refused declines declined")


# Verbs of wanting and needing: negated by "we", "I" or "you" ("we don't need X"), they voice an opinion, which
# no report of the story asserted the opposite of.
_ATTITUDE_VERBS = _words("need needs want wants like likes love loves care cares deserve deserves mind")
_FIRST_PERSONS = _words("we i you")


_HEDGES = _words("""
    reportedly allegedly alleged apparently appears appear seemingly possibly purportedly purported supposedly
    rumored rumoured unconfirmed unverified may might could believed suspected
    rumor rumors rumour rumours speculation allegation allegations
    maybe perhaps probably likely probable possible feared presumed
    """)


# Who a claim is attributed to: an item that only relays what one of these says ("Congressman: ten fighters
# caught", "Lawmaker says...", "... - police") reports the claim without asserting it, as "reportedly" does.
_SPEAKERS = _words("""
    official officials spokesman spokeswoman spokesperson lawmaker lawmakers legislator congressman
    congresswoman senator senators rep representative mayor governor police cop cops sheriff authorities
    witness witnesses eyewitness eyewitnesses expert experts source sources insider insiders aide aides
    report reports media analyst analysts activist activists people
    """)


_SPEECH_VERBS = _words("say says said claim claims claimed tell tells told insist insists insisted warns warned")


# A speaker word and a speech verb this close name who says it ("people familiar with the matter say").
_ATTRIBUTION_SPAN = 5


_SPEAKER_MARK = re.compile(r":|\s[-–—]+\s")  # "Congressman: ...", "... - police"


# Auxiliaries and other words skipped between a negator and the negated event.
_AUX = _words("""
    be been being is are was were am has have had do does did will would shall should can could may might
    must get got getting gets really actually ever personally even yet still a an the any his her its their
    going gonna able
    """)


# Verbs too light to name an event: "denies taking a selfie" is about the selfie.
_LIGHT_VERBS = _words("""
    take taking took make making made have having do doing get getting give giving become becoming cause causes
    causing caused
    """)


_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "dozen": 12,
}  # fmt: skip


_FIGURE_WORDS = frozenset(_WORD_NUMBERS) | {"no", "nobody", "none"}


_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}


_APPROX = _words("least more over under below within nearly about around almost some roughly approximately up than")


_RISING = _words("climbs climb rises rise risen rose jumps jump soars soar reaches reach hits mounts")


_GENERIC_COUNTED = _words("people persons person others more")


_TOLL_WORDS = {"dead": "dead", "killed": "dead", "fatalities": "dead", "lives": "dead", "bodies": "dead",
               "injured": "injured", "wounded": "injured", "hurt": "injured"}  # fmt: skip


_MONTHS = _words("jan feb mar apr jun jul aug sep sept oct nov dec january february march april may june july "
                    "august september october november december")  # fmt: skip


# Irregular forms, so that "died", "dead" and "death" name one event.
_IRREGULAR = {
    "dead": "die", "death": "die", "deaths": "die", "died": "die", "dying": "die", "shot": "shoot",
    "fled": "flee", "held": "hold", "made": "make", "took": "take", "taken": "take", "gave": "give",
    "given": "give", "won": "win", "lost": "lose", "sold": "sell", "bought": "buy", "caught": "catch",
    "seen": "see", "saw": "see", "went": "go", "gone": "go", "met": "meet", "stole": "steal",
    "stolen": "steal", "theft": "steal", "broke": "break", "broken": "break", "wrote": "write",
    "written": "write", "spoke": "speak", "spoken": "speak", "fell": "fall", "fallen": "fall",
    "began": "begin", "begun": "begin", "sank": "sink", "sunk": "sink", "struck": "strike", "fought": "fight",
    "rose": "rise", "risen": "rise", "flew": "fly", "flown": "fly", "chose": "choose", "chosen": "choose",
    "hid": "hide", "hidden": "hide", "led": "lead", "paid": "pay", "found": "find", "freed": "free",
    "brought": "bring", "thought": "think", "sent": "send", "built": "build", "kept": "keep", "felt": "feel",
    "left": "leave", "ran": "run", "drove": "drive", "driven": "drive", "ate": "eat", "eaten": "eat",
    "grew": "grow", "grown": "grow", "knew": "know", "known": "know", "threw": "throw", "thrown": "throw",
    "told": "tell", "sought": "seek", "taught": "teach", "spent": "spend", "lent": "lend", "bit": "bite",
    "bitten": "bite", "alive": "live", "lives": "live", "life": "live", "sale": "sell", "sales": "sell",
    # A killing is a death: "airstrike kills ISIS leader" asserts what "ISIS leader not dead" denies.
    "kill": "die", "kills": "die", "killed": "die", "killing": "die", "slain": "die", "mortality": "die",
    "laid": "lay", "withdrew": "withdraw", "withdrawn": "withdraw",
}  # fmt: skip


# Words that name one event or one relation the same way, for the commonest news events: "kidnapped" reports
# the capture that "captured" does; "mom" is a mother.
_SYNONYM_GROUPS = {
    "capture": "capture captures captured capturing kidnap kidnaps kidnapped kidnapping abduct abducts abducted "
               "abducting abduction",
    "separate": "segregate segregates segregated segregating segregation",
    "buy": "buy buys buying acquire acquires acquired acquiring acquisition purchase purchases purchased "
           "purchasing",
    "ban": "prohibit prohibits prohibited prohibiting prohibition outlaw outlaws outlawed",
    "mother": "mom moms mum mums mommy mother mothers",
    "father": "dad dads daddy father fathers",
    "child": "kid kids child children",
    # Leaving a race, a deal or a post: "quits", "exits" and "withdraws from" report one move.
    "withdraw": "quit quits quitting exit exits exited exiting withdraw withdraws withdrawing withdrawal "
                "pullout pullouts dropout dropouts backout stepdown resign resigns resigned resigning resignation",
    "arrest": "arrest arrests arrested arresting detain detains detained detaining",
}  # fmt: skip


_SYNONYMS = {word: base for base, words in _SYNONYM_GROUPS.items() for word in words.split()}



# Opposite states: concept -> (words of the first state, words of the second state, natural direction).
# The natural direction is the order in which the states follow each other as a story develops
# (closed, then reopened): a later item moving along it is a development, not a contradiction.
_STATES: dict[str, tuple[frozenset[str], frozenset[str], bool]] = {
    "open": (_words("closed close closes shut shuts remains remain suspended"),
             _words("reopen reopens reopened reopening open opens opened resume resumes resumed stay stays staying "
                    "sticking sticks stick"), True),
    "freedom": (_words("held hostage captive detained detention custody jailed imprisoned"),
                _words("released release releases freed free frees"), True),
    "found": (_words("missing disappeared vanished"),
              _words("found located rescued recovered"), True),
    "alive": (_words("alive survived survives survivor survive living safe"),
              _words("dead die dies died killed death behead beheaded beheads beheading executed pass passes "
                     "passed passing"), True),
    "attend": (_words("attend attends attending travel travels travelling traveling visit visits"),
               _words("skip skips skipping boycott boycotts boycotting cancels cancelled canceled"),
               False),
    "deal": (_words("agree agrees agreed merge merges accept accepts accepted sign signs signed"),
             _words("off collapse collapses collapsed abandon abandons abandoned scrap scraps scrapped "
                       "walks walk"), False),
    "verdict": (_words("guilty convicted convicts convict"),
                _words("acquitted acquits acquit innocent cleared"), False),
}  # fmt: skip


# "Still held", "remains closed": the earlier state persists, so moving back to it is no development.
_PERSIST = _words("still remains remain remained continues continue yet")


_BREAK = "zqxsegmentbreakzqx"  # a word no headline holds


_SEGMENT = re.compile(r"[:;!?|…]+|\s[-–—]+\s|(?<=[a-z0-9)])\.(?=\s|$)|,(?!\d)")


_DOUBLE = re.compile(r"([bdfgklmnprtvz])\1$")


_NUMBER_WITH_SCALE = re.compile(r"(\d[\d,.]*)(?:k|m|mn|bn|b|s|st|nd|rd|th)?")


# Nominalisations back to their verb: expansion -> expand, explosion -> explod(e), withdrawal -> withdraw.
_NOMINAL_SUFFIXES = (
    ("ssion", "ss"), ("nsion", "nd"), ("sion", "d"), ("tion", "t"), ("ment", ""), ("ness", ""), ("wal", "w"),
    ("val", "v"), ("sal", "s"), ("ial", "y"),
)  # fmt: skip


# The particles that make a noun of a phrasal verb written as one word ("layoffs", "pullout", "shutdown"). Not "up"
# ("roundup", "startup", "lineup" name things more often than events) nor "over" ("discover").
_COMPOUND_PARTICLES = ("off", "out", "down")


def _phrasal_verb(word: str) -> str:
    """The verb of a noun made of a phrasal verb, so that it meets the verb, whose particle is a stop word:
    "layoffs" -> "lay" ("to lay off", "laid off"), "pullout" -> "pull", "crackdown" -> "crack". Compounds of a
    function word ("without", "throughout") and too short a verb ("about", "stout") are no phrasal verbs."""
    if not word.isalpha() or len(word) < 6:
        return word
    body = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    for particle in _COMPOUND_PARTICLES:
        verb = body[: -len(particle)]
        if body.endswith(particle) and len(verb) >= 3 and verb not in STOP_WORDS:
            return verb
    return word


# Phrasal verbs that mean what one word of a synonym group does, by the stem of their verb and their particle:
# "pulls out", "pulled out" -> ("pul", "out") -> "withdraw", from the group's one-word noun "pullout".
PHRASAL_SYNONYMS = {
    (stem(word[: -len(particle)]), particle): base
    for word, base in _SYNONYMS.items()
    for particle in _COMPOUND_PARTICLES
    if word.endswith(particle) and len(word) > len(particle) + 2
}


@lru_cache(maxsize=16384)
def event_key(word: str) -> str:
    """One key for the inflected and nominal forms of an event ("evacuate", "evacuating", "evacuation").

    `terms.stem` handles inflection; this adds irregular verbs and the usual nominalisations, and undoubles
    a final consonant on every form so that "kill" and "killed" meet.
    """
    if word in _WORD_NUMBERS:
        return str(_WORD_NUMBERS[word])  # "two" and "2" name the same figure
    word = _phrasal_verb(word)
    base = _IRREGULAR.get(word) or _SYNONYMS.get(word, word)
    if base.isalpha() and len(base) > 6:
        for suffix, replacement in _NOMINAL_SUFFIXES:
            if base.endswith(suffix):
                base = base[: -len(suffix)] + replacement
                break
    number = _NUMBER_WITH_SCALE.fullmatch(base)
    if number:
        return number.group(1).replace(",", "")  # "72m" and "72 million" share "72"
    key = stem(base)
    if key.endswith("y"):
        key = key[:-1] + "i"  # stem leaves "fly" but makes "flies" "fli"
    if key.endswith("at") and len(key) > 6:  # evacuat(e) -> evacu, so "evacuation" (evacuat) meets it
        key = key[:-2]
    if key.endswith("en") and len(key) > 6:  # threaten -> threat, strengthen -> strength
        key = key[:-2]
    if key.endswith(("ller", "sser")) and len(key) > 6:  # agent nouns: catcaller -> catcall, harasser -> harass
        key = key[:-2]
    if key.endswith("ic") and len(key) > 6:  # robotic -> robot, Islamic -> Islam
        key = key[:-2]
    elif key.endswith("an") and len(key) >= 5 and not key.endswith("man"):  # Nicaraguan -> Nicaragua
        key = key[:-1]
    return _DOUBLE.sub(r"\1", key)


# Counted things whose number only ever grows as a story develops, by event key ("killed", "deaths" -> dead).
_TOLLS = {event_key(word): toll for word, toll in _TOLL_WORDS.items()}


# Words that open a question ("Who won", "Did she", "Is it"); "why" and "how" open explanations as often.
_QUESTION_OPENERS = _words("who what which did does do is are was were will can could should would has have")


# Contractions `tokenize` joins into one word ("you're" -> "youre"); function words all the same.
_CONTRACTIONS = _words(
    "youre theyre were im ive id hes shes thats theres whats lets weve youve youll theyll itll youd theyd"
)


_CLAUSE_AUX = _words("is are was were has have had will would")


_CLAIM_LINKS = _words("that of about he she it they")


# After a negator, these make it an idiom rather than the negation of the story's event.
_NOT_AN_EVENT = _words("""
    say says comment comments confirm confirms know knows disclose reveal discuss elaborate idea guess believe
    """)


_SPEECH = _words("say said says tell told tells call called calls")


_DO_NEGATORS = _words("didnt doesnt dont wont cant cannot couldnt wouldnt shouldnt hasnt havent hadnt never")


_DO_AUX = _words("did does do will would can could should has have had must")


_PRONOUNS = _words("he she it they we i you that this")


_COPULAS = _words("is are was were be been")


_CONTINUE_VERBS = _words("stop stops end ends halt halts cease ceases quit quits")


_ARTICLES = _words("a an the")


_EXISTENCE = _words("happen happens happened exist exists existed occur occurs occurred")


# "X isn't real", "X is not true", "X is not what it seems": the subject itself is denied.
_REALITY = _words("real true genuine authentic legit legitimate accurate correct")


# Names of a genre: a parody or a satire is a kind of work ("SNL's 'Girls' parody"), and calls a report false only
# when it is said of it ("the story was satire", "turned out to be a spoof").
_GENRES = _words("parody parodies spoof spoofs spoofed satire satirical fiction fictional prank pranks")


_LIES = _words("lie lies")


# Before "lie(s)", the words that make it the noun of a falsehood ("a lie", "all lies", "is lying"), not the verb of
# place ("what lies ahead", "hopes may lie with Congress").
_LIE_NOUN_BEFORE = _words("a big all outright pack such is are was were more")


_CLAUSE_BREAKS = _words("and but says say said that while as after")


# "Too good to check", "too good to be true": the outlet doubts the story it relays.
_TOO_GOOD = (["too", "good", "to", "check"], ["too", "good", "to", "be", "true"])


# After "if" or "whether" a clause is a question, not an assertion: "won't say if X was not paid".
_CONDITIONALS = _words("if whether")


# "Told not to pay", "urged not to travel": what someone was asked not to do, not an event that did not happen.
# ("Putin not to attend" is headline English for "will not attend", and stays a negation.)
_INSTRUCTED = _words("""
    told tells tell urged urges urge asked asks ask warned warns warn threatened threatens advised advises
    ordered orders pressured pressed begged begs instructed encouraged
    """)


_PREPOSITIONS = _words("with of for about by from without")


# "Five reasons not to cancel", "how not to pay": advice, not an event that did not happen.
_ADVICE = _words("reasons reason ways tips why how")


_YOU = _words("you youll youre youve youd")


_EVIDENCE = _words("evidence proof sign signs indication trace")


# Replies that answer a question headline in the negative: "Batmobile stolen? Good one", "X? Think again".
_REPLIES = (
    ["good", "one"], ["nice", "try"], ["not", "quite"], ["not", "so", "fast"], ["think", "again"],
    ["not", "really"], ["hardly"], ["nah"], ["no", "way"], ["dream", "on"], ["fat", "chance"], ["wrong"],
    ["not", "likely"], ["not", "exactly"], ["guess", "again"],
)  # fmt: skip


_FALL = _words("fall falls fell falling")


# "Fall for" a story or a picture is to be fooled by it; "fans fall for the new phone" is to like it.
_FOOLING = (
    _MEDIA_NOUNS
    | _REPORT_NOUNS
    | _DEBUNK_WORDS
    | _words("prank pranks trick tricks scam scams joke jokes tweet tweets post posts meme memes site website april")
)


_PUT = _words("put puts putting lay lays laid laying")  # "rumor put to rest", "lays rumours to rest"


_SPREAD = _words("sharing spreading believing")


_MAKE = _words("make makes made making")


_STAGE = _words("stage stages staged staging")


_RECORD_STRAIGHT = (["the", "record", "straight"], ["record", "straight"])


# "So he won't", "so that it doesn't", "lest", "unless": a negation stating an aim or a condition, not an event.
_PURPOSE_MARKS = _words("lest unless")


# Objects that make "releases" a publication, not a liberation: "ISIS releases video".
_PUBLISHED = _words("statement footage images image details data results names figures list album film song "
                       "trailer plans plan report video videos photo photos pictures")  # fmt: skip


_STAYING = _words("stay stays staying sticking sticks stick")


_SAFE_SUBJECTS = _words("is are was were im hes shes theyre were safe alive")


# Plurals without an s, and the nouns of a listicle: "six things to know", "10 reasons why" count the article's
# points, not anything of the story.
_PLURALS = _words("people men women children feet teeth mice geese police staff")


_LISTICLE = _words("things reasons ways tips facts questions lessons moments signs secrets takeaways rules myths")


# Words of a change, before a number: the number is by how much, not how many ("rise 10 cents", "up 3.4 cents").
_MOVES = _words("""
    up down rise rises rose fall falls fell drop drops dropped increase increases increased decrease decreases
    decreased jump jumps jumped climb climbs climbed slide slides slid slip slips slipped gain gains gained lose
    loses surge surges surged plunge plunges plunged add adds added
    """)


_EXTREMES = _words("low high record best worst lowest highest")


_IN_ON = _words("in on at to into through")


_MEASURES = _words("""
    foot feet ft inch inches meter meters metre metres m km kilometer kilometers kilometre kilometres mile miles
    yard yards cm mm kg kilo kilos pound pounds lb lbs ton tons tonne tonnes second seconds minute minutes hour
    hours day days week weeks month months year years
    """)


_PASS = _words("pass passes passed passing")


_NOTHING: frozenset[str] = frozenset()
