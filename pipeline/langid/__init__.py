"""Language identification: which language an article (and each paragraph) is in, and how sure.

Why more than a call to lingua: the label routes the article to a translation model, so a wrong
label is a wrong translation. lingua alone confuses close neighbours (Azerbaijani read as Turkish,
Ukrainian as Kazakh, unaccented Czech as Slovak), and its whole-text rules return a flat 1.0 that
the letters contradict. `python -m bench.langid` (`make bench-langid`) measures every change.

One module per kind of evidence, in the order `detector.LanguageDetector` weighs them:

- text.py: the text as read (addresses dropped, mojibake and mixed look-alike letters repaired);
- scripts.py, the script screen: a script that only one language writes (Georgian, Armenian,
  Greek, Hebrew, Hangul, kana, Thai...) decides at once; a language whose script has no letter in
  the text is out;
- reader.py, the lingua reader: lingua reads the text whole and word by word among the candidate
  languages (`DetectOptions.languages`, else every language it knows), loading full models only
  for the leaders of its trigram screen; the two readings are added as log-probabilities;
- alphabets.py and rules.py, the letter and word rules: a letter outside a language's alphabet,
  a function word a close neighbour uses and the language lacks, a spelling it never writes, a
  word ending a vowel-final language lacks; evidence, never overrides;
- lexicon.py: when a few leading languages are close (a short title), how common the text's
  words are in each re-ranks them;
- serbocroatian.py: Serbian in Latin letters, which lingua reads as Bosnian or Croatian, told
  apart by the reflex of old jat, syntax, word formation and the vocabulary of the state;
- detector.py: `decide()` combines them for a text; the winner's share of the combined probability
  is `Guess.confidence` (on the benchmark it matches the observed accuracy: the calibration line
  of `bench.langid`); `LanguageDetector.detect` labels an article from its paragraphs.

Importing the package loads nothing: lingua and wordfreq are imported on first use.
"""

from pipeline.langid.detector import LanguageDetector
from pipeline.langid.options import DetectOptions
from pipeline.langid.records import Detection, Guess

__all__ = ["Detection", "DetectOptions", "Guess", "LanguageDetector"]
