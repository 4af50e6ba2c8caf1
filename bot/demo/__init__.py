"""`storywatch demo`: the real scheduler, fetcher, pipeline and sender, with no token and no network."""
