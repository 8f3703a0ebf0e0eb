"""newsbrief: foreign-language news in, dated English briefs and a merged digest out."""

__version__ = "0.1.0"
