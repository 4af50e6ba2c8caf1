"""Headline normalisation and tokenising, shared by the story clusterer and the contradiction detector.

Pure functions, no I/O. The pieces are kept separate so each stage can choose what to drop:
clustering drops negations (a denial belongs to the story it denies), contradiction detection keeps them.

- `normalize_headline`: strip feed furniture (source suffixes such as " - Reuters" or " | BBC News",
  "BREAKING:" prefixes, truncation ellipses), keeping the wording.
- `tokenize`: lower-case word tokens with accents, apostrophes and punctuation removed.
- `stem`: a light English suffix stripper, so "beheads", "beheaded" and "beheading" meet.
- `STOP_WORDS` (function words, without negations), `NEGATIONS`, `NEWS_FURNITURE`.
- `is_plain_statement`: whether a headline states its news plainly (no question, negation or denial), so a
  story is titled by a report of its claim rather than by the denial of it.
- `place_name`: the place a demonym or adjective of place names ("Iranian" -> "iran"), for topics.
- `is_roundup`: whether a headline heads a live page, a series part or a round-up, which never titles a story.
- `lowercase_words`: the words a headline or summary writes in lower case, which are not names, and
  `capitalised_words` those it capitalises inside a sentence, which are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Negations are deliberately not stop words: the contradiction detector needs them. Clustering adds them.
NEGATIONS: frozenset[str] = frozenset(
    [
        "no",
        "not",
        "nor",
        "never",
        "none",
        "nothing",
        "nobody",
        "neither",
        "without",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "hasnt",
        "havent",
        "hadnt",
        "aint",
    ]
)

STOP_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "almost",
        "also",
        "am",
        "among",
        "an",
        "and",
        "any",
        "are",
        "around",
        "as",
        "at",
        "be",
        "became",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "d",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "else",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "least",
        "less",
        "like",
        "ll",
        "m",
        "many",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "near",
        "nearly",
        "o",
        "of",
        "off",
        "on",
        "once",
        "one",
        "only",
        "onto",
        "or",
        "other",
        "others",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "rather",
        "re",
        "s",
        "same",
        "shall",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "t",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "too",
        "toward",
        "towards",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "ve",
        "very",
        "via",
        "was",
        "we",
        "were",
        "what",
        "whatever",
        "when",
        "whenever",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "says",
        "say",
        "said",
        "saying",
        "tells",
        "told",
        "amid",
        "new",
        "now",
        "latest",
    ]
)

# Words that describe the report rather than the news. "Watch", "video" and "live" are not here: they are
# content as often as furniture ("Apple Watch"); a leading "WATCH:" is stripped by `normalize_headline`.
NEWS_FURNITURE: frozenset[str] = frozenset(["breaking", "exclusive", "update", "updated", "updates", "reportedly"])

# Words that make a headline deny or debunk something rather than state it ("X denies Y", "Y is a hoax").
DENIAL_WORDS: frozenset[str] = frozenset(
    [
        *("deny", "denies", "denied", "denying", "denial", "hoax", "hoaxes", "hoaxer", "fake", "faked"),
        *("false", "falsely", "untrue", "debunk", "debunks", "debunked", "debunking", "bogus", "fabricated"),
        *("fabrication", "myth", "refutes", "refuted", "dismisses", "dismissed"),
    ]
)


def is_plain_statement(title: str) -> bool:
    """Whether a headline states something plainly: no question, no negation, no denial or debunk word.

    "Iran begins evacuating personnel" is plain; "Iran denies evacuating personnel", "No, Banksy has not
    been arrested" and "Was the Batmobile stolen?" are not. Used to pick a story's title."""
    if "?" in title:
        return False
    return not any(w in NEGATIONS or w in DENIAL_WORDS for w in tokenize(title))


# Countries (and a few regions) with the adjectives and demonyms that name them, as "place: forms" lines,
# so that "/follow iran" meets "Iranian forces..." and "/follow french" meets "France". Linguistic data, not
# fitted to any headlines: one line per country, single words only (tokens are single words).
_PLACE_FORMS = """
afghanistan: afghan afghans; albania: albanian; algeria: algerian; angola: angolan; argentina: argentine
argentinian; armenia: armenian; australia: australian aussie; austria: austrian; azerbaijan: azerbaijani azeri;
bahrain: bahraini; bangladesh: bangladeshi; belarus: belarusian belarussian; belgium: belgian; bolivia: bolivian;
bosnia: bosnian; brazil: brazilian; britain: british briton britons; bulgaria: bulgarian; burma: burmese;
cambodia: cambodian; cameroon: cameroonian; canada: canadian; chile: chilean; china: chinese; colombia: colombian;
congo: congolese; croatia: croatian croat croats; cuba: cuban; cyprus: cypriot; czechia: czech; denmark: danish
dane danes; ecuador: ecuadorian ecuadorean; egypt: egyptian; england: english; eritrea: eritrean; estonia: estonian;
ethiopia: ethiopian; europe: european; finland: finnish finn finns; france: french frenchman; georgia: georgian;
germany: german; ghana: ghanaian; greece: greek; guatemala: guatemalan; haiti: haitian; honduras: honduran;
hungary: hungarian; iceland: icelandic icelander; india: indian; indonesia: indonesian; iran: iranian persian;
iraq: iraqi; ireland: irish; israel: israeli; italy: italian; jamaica: jamaican; japan: japanese; jordan:
jordanian; kazakhstan: kazakh kazakhstani; kenya: kenyan; korea: korean; kosovo: kosovar; kuwait: kuwaiti;
kyrgyzstan: kyrgyz; laos: laotian lao; latvia: latvian; lebanon: lebanese; libya: libyan; lithuania: lithuanian;
malaysia: malaysian; mali: malian; mexico: mexican; moldova: moldovan; mongolia: mongolian; morocco: moroccan;
mozambique: mozambican; nepal: nepali nepalese; netherlands: dutch; nicaragua: nicaraguan; niger: nigerien;
nigeria: nigerian; norway: norwegian; oman: omani; pakistan: pakistani; palestine: palestinian; panama: panamanian;
paraguay: paraguayan; peru: peruvian; philippines: philippine filipino filipina; poland: polish poles;
portugal: portuguese; qatar: qatari; romania: romanian; russia: russian; rwanda: rwandan; saudi: saudis;
scotland: scottish scot scots; senegal: senegalese; serbia: serbian serb serbs; singapore: singaporean;
slovakia: slovak slovakian; slovenia: slovenian slovene; somalia: somali somalian; spain: spanish spaniard;
sudan: sudanese; sweden: swedish swede swedes; switzerland: swiss; syria: syrian; taiwan: taiwanese; tajikistan:
tajik; tanzania: tanzanian; thailand: thai; tunisia: tunisian; turkey: turkish turk turks; turkmenistan: turkmen;
uganda: ugandan; ukraine: ukrainian; uruguay: uruguayan; usa: american; uzbekistan: uzbek; venezuela: venezuelan;
vietnam: vietnamese; wales: welsh; yemen: yemeni; zambia: zambian; zimbabwe: zimbabwean
"""
PLACE_OF: dict[str, str] = {
    form: place.strip()
    for entry in " ".join(_PLACE_FORMS.split()).split(";")
    for place, forms in [entry.split(":")]
    for form in forms.split()
}


def place_name(word: str) -> str:
    """The place a demonym or adjective of place names ("iranians" -> "iran"), else the word itself."""
    return PLACE_OF.get(word) or PLACE_OF.get(word[:-1] if word.endswith("s") else word, word)


# Structural signs that a headline heads a compilation of reports rather than one: a live page ("live
# updates", "live blog", "- live", "as it happened"), a numbered part of a series ("part 3", "pt. II",
# "(2/5)"), or a round-up's label ("what we know", "everything you need to know", "key takeaways", "recap",
# "in pictures", "the latest"). These are the genre's own conventions, as feed readers and news aggregators
# use them, not headlines of any data set.
_ROUNDUP = re.compile(
    r"\blive(?:\s*[-–—]?\s*(?:updates?|blog|coverage|report(?:ing)?|stream|news|text|feed))\b"
    r"|^\s*live\s*[:\-–—|]|[:\-–—|]\s*live\s*$"
    r"|\bas it happen(?:s|ed)\b|\brolling coverage\b|\blatest (?:news|updates?)\b|\bthe latest\b"
    r"|\b(?:part|pt\.?|episode|ep\.?|vol\.?|volume|chapter)(?:\s*\d+|\s+[ivxlc]+)\b|\(\s*\d+\s*/\s*\d+\s*\)"
    r"|\bwhat (?:we|you) (?:know|need to know|should know)\b|\b(?:everything|all) (?:we|you) (?:know|need to know)\b"
    r"|\b(?:key )?takeaways\b|\bthings to know\b|\brecap\b|\bround-?up\b|\bin (?:pictures|photos)\b",
    re.IGNORECASE,
)


def is_roundup(title: str) -> bool:
    """Whether a headline heads a live page, a part of a series or a round-up ("Iran Syria evacuation live
    updates part 3", "What we know about the strike"): such a headline never names a story, whatever it
    shares with it."""
    return _ROUNDUP.search(title) is not None


_FURNITURE_PREFIX = re.compile(
    r"^\s*(?:breaking(?:\s+news)?|update\s*\d*|updated|exclusive|watch|video|photos?|live|analysis|opinion)"
    r"\s*[:\-–—|]\s*",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*$")
_TRAILING_PAREN = re.compile(r"\s*\((?:\d+|[A-Z][\w.&' ]{0,30})\)\s*$")
# A suffix separator needs surrounding spaces (or a dash glued to the source, as in "... 2012 -BNONews"),
# so hyphenated words ("on-hold") are never split.
_SUFFIX_SEPARATOR = re.compile(r"\s+(?:[-–—|:]|::)\s*|\s+-(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_APOSTROPHE_S = re.compile(r"(?<=\w)['’]s\b")
_APOSTROPHES = re.compile(r"['’`]")
# "U.S.", "U.K.", "E.U." -> "US", "UK", "EU" before case folding; then a capitalised "US" is the country
# ("usa"), not the pronoun (a stop word).
_DOTTED_ACRONYM = re.compile(r"\b((?:[A-Z]\.){2,})")
_US = re.compile(r"\bUS\b")
# Lower-case words that may appear inside an outlet's name ("The Times of India", "Reuters UK (blog)").
_NAME_JOINERS = frozenset({"of", "the", "and", "de", "la", "le", "du", "el", "for", "on", "in", "at", "&"})


def fold(text: str) -> str:
    """Lower-case and strip accents ("Montréal" -> "montreal") so spelling variants of a name meet."""
    if text.isascii():  # most headlines: nothing to decompose, and this runs several times per report
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _looks_like_source(segment: str, source: str | None) -> bool:
    """Whether a trailing headline segment names the outlet rather than saying something.

    Sources are Title Case names or domains of a few words ("Reuters", "BBC News", "The Times of India",
    "CNN.com"); content after a dash has lower-case words ("- thanks to his ringtone"). A segment that
    matches the item's own source is always a source.
    """
    segment = segment.strip().strip("()[]").strip()
    if not segment:
        return True
    folded = fold(segment)
    if source:
        src = fold(re.sub(r"\\?\(.*?\\?\)", "", source)).strip()
        if src and (folded == src or folded.startswith(src) or src.startswith(folded)):
            return True
    words = segment.split()
    if len(words) > 5 or segment.endswith(("?", "!")):
        return False
    # Outlet names rarely hold function words; "- But Is It Real?" and "- Shot Off Middle Finger" do.
    if any(w.lower() in STOP_WORDS and w.lower() not in _NAME_JOINERS for w in words):
        return False
    if re.fullmatch(r"[\w.-]+\.(?:com|net|org|co\.uk|co|io|in|uk|au|ca)", folded):
        return True
    capitalised = [w for w in words if w[:1].isupper() or w[:1].isdigit()]
    joiners = [w for w in words if w.lower() in _NAME_JOINERS]
    return len(capitalised) >= 1 and len(capitalised) + len(joiners) == len(words)


def normalize_headline(title: str, source: str | None = None) -> str:
    """Strip feed furniture from a headline, keeping its wording and case.

    Removes "BREAKING:"-style prefixes, a truncation ellipsis, a trailing "(1)" or "(Reuters)", and trailing
    segments after " - ", " | ", " — " or " : " that look like an outlet's name. A segment is only removed when
    the rest of the headline still has several words, so "Ukraine - Live" keeps "Ukraine".
    """
    text = " ".join(title.split())
    text = _FURNITURE_PREFIX.sub("", text)
    for _ in range(3):  # "Title | Section | Outlet ..." peels from the right, a few layers at most.
        before = text
        text = _ELLIPSIS.sub("", text)
        text = _TRAILING_PAREN.sub("", text)
        separators = list(_SUFFIX_SEPARATOR.finditer(text))
        if separators:
            last = separators[-1]
            head, tail = text[: last.start()], text[last.end() :]
            if len(head.split()) >= 3 and _looks_like_source(tail, source):
                text = head
        if text == before:
            break
    return text.strip(" -–—|:")


def tokenize(text: str, stop_words: Iterable[str] | frozenset[str] = frozenset()) -> list[str]:
    """Lower-case word tokens in order, without accents, apostrophes, punctuation or the given stop words.

    Possessives lose their "'s" ("Apple's" -> "apple"); contractions join ("didn't" -> "didnt", which is in
    `NEGATIONS`); hyphenated words split ("on-hold" -> "on", "hold"); decimals stay whole ("6.2").
    """
    stops = stop_words if isinstance(stop_words, (frozenset, set)) else frozenset(stop_words)
    # Each substitution only where it can match: this runs several times per report, and most headlines have
    # no dotted acronym, no "US" and no apostrophe.
    if "." in text:
        text = _DOTTED_ACRONYM.sub(_undot, text)
    if "US" in text:
        text = _US.sub("usa", text)
    folded = fold(text)
    if "'" in folded or "’" in folded or "`" in folded:
        folded = _APOSTROPHES.sub("", _APOSTROPHE_S.sub("", folded))
    if not stops:
        return _WORD.findall(folded)
    return [w for w in _WORD.findall(folded) if w not in stops]


# A word as written: letters and digits with inner apostrophes, so that case can be read before folding.
_WRITTEN_WORD = re.compile(r"[^\W_](?:[\w'’`]*[^\W_])?")


def lowercase_words(text: str) -> list[str]:
    """The words a headline (or a summary) writes in lower case, folded: common nouns, verbs and adjectives as
    the outlet writes them ("copper" in "Miners reject wage offer as copper strike drags on"), never a name,
    which is capitalised in any style. Title case ("Thieves Steal Copper Wire") and capitals say nothing of
    their words, and a text without a capital letter anywhere ("the end of reading as you know it") writes
    names in lower case too: both give no words. A word with a capital inside ("iPhone", "eBay") is a name."""
    if not any(ch.isupper() for ch in text):
        return []
    return [word for written in _WRITTEN_WORD.findall(text) if written.islower() for word in tokenize(written)]


# Marks after which a sentence or a headline's part begins, so that a capital there says nothing of the word; a
# dash begins one only after a space ("Ukraine - Live", not "Jong-Un").
_PART_MARKS = frozenset(":?!.|;\"“‘([")
_DASHES = frozenset("-–—")


def _begins_part(text: str, at: int) -> bool:
    # Looks back over the white space before `at` only: each word's own gap, so a text is read once in all.
    i = at
    while i and text[i - 1].isspace():
        i -= 1
    if not i:
        return True
    mark = text[i - 1]
    return mark in _PART_MARKS or (mark in _DASHES and i >= 2 and text[i - 2].isspace())


def capitalised_words(text: str) -> list[str]:
    """The words a text in sentence case capitalises inside a sentence, folded: names ("Tor" in "Comcast calls
    rumor that it disconnects Tor users wildly inaccurate"). A text is in sentence case when it writes a word
    other than a function word in lower case; title case and capitals give no words, nor does a word in
    capitals ("FEED her own SON"), which is emphasis as often as a name."""
    written = list(_WRITTEN_WORD.finditer(text))
    if not any(m.group().islower() and m.group() not in STOP_WORDS for m in written):
        return []
    return [word for m in written if m.group()[0].isupper() and not m.group().isupper()
            and not _begins_part(text, m.start()) for word in tokenize(m.group())]


def _undot(match: re.Match[str]) -> str:
    return match.group(1).replace(".", "") + " "


_DOUBLE = re.compile(r"([bdfgklmnprtvz])\1$")


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix stripper for English ("saves", "saved", "saving" -> "sav"; "stories" -> "stori").

    Not a linguistic stemmer: it only needs to map inflections of one word to one key, consistently.
    Numbers, words of one to three letters (but a final "y" becomes "i" everywhere, so "fly" meets "flies")
    and words ending in "ss", "us", "is" ("congress", "virus", "isis") are left alone.
    """
    if not word.isalpha():
        return word
    if len(word) <= 3:
        # "fly" must meet "flies" (-> "fli"), "day" meet "days".
        return word[:-1] + "i" if len(word) == 3 and word.endswith("y") else word
    w = word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "i"
    elif w.endswith("sses") or w.endswith("xes") or w.endswith("ches") or w.endswith("shes"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ingly", "edly", "ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if w.endswith("y") and len(w) >= 3:
        w = w[:-1] + "i"
    # A final double consonant is undoubled whether or not a suffix went, so "kill" meets "killed" and
    # "stop" meets "stopped" (three-letter stems such as "add" keep theirs, as "add" itself does).
    if len(w) >= 4:
        w = _DOUBLE.sub(r"\1", w)
    return w
