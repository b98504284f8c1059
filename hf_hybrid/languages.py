"""Language codes, scripts and resource levels.

Why a table of our own: the parallel schema validates ``lang`` against ISO 639 without a network call or a new
dependency, and the evaluation groups results by resource level (high / low / zero-shot), which no library
defines for us. Resource levels follow the usual split of multilingual pre-training corpora: the ~30 languages
with the most CC-100 / mC4 text are "high", everything else "low". Zero-shot is not a property of a language but
of a training run (languages held out of fine-tuning), so it lives in the training record, not here.

Synthetic-world languages use the ISO 639-2 codes reserved for local use (``qaa``–``qtz``).
"""

from __future__ import annotations

import string

# ISO 639-1 codes with English names, plus the ISO 639-3 codes of languages that have no 639-1 code but appear in
# the multilingual retrieval sets we support (AfriCLIRMatrix, CIRAL, MIRACL, Belebele).
LANGUAGES: dict[str, str] = {
    "af": "Afrikaans", "ak": "Akan", "am": "Amharic", "ar": "Arabic", "as": "Assamese", "az": "Azerbaijani",
    "be": "Belarusian", "bg": "Bulgarian", "bm": "Bambara", "bn": "Bengali", "bo": "Tibetan", "br": "Breton",
    "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German",
    "dv": "Divehi", "ee": "Ewe", "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "ff": "Fulah", "fi": "Finnish", "fo": "Faroese",
    "fr": "French", "fy": "Western Frisian", "ga": "Irish", "gd": "Scottish Gaelic", "gl": "Galician",
    "gn": "Guarani", "gu": "Gujarati", "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "ig": "Igbo",
    "is": "Icelandic", "it": "Italian", "ja": "Japanese", "jv": "Javanese", "ka": "Georgian", "kg": "Kongo",
    "ki": "Kikuyu", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "ku": "Kurdish",
    "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lg": "Ganda", "ln": "Lingala", "lo": "Lao",
    "lt": "Lithuanian", "lv": "Latvian", "mg": "Malagasy", "mi": "Maori", "mk": "Macedonian", "ml": "Malayalam",
    "mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "mt": "Maltese", "my": "Burmese", "ne": "Nepali",
    "nl": "Dutch", "no": "Norwegian", "nb": "Norwegian Bokmål", "ny": "Chichewa", "om": "Oromo", "or": "Odia",
    "pa": "Punjabi", "pl": "Polish", "ps": "Pashto", "pt": "Portuguese", "qu": "Quechua", "rn": "Kirundi",
    "ro": "Romanian", "ru": "Russian", "rw": "Kinyarwanda", "sa": "Sanskrit", "sd": "Sindhi", "si": "Sinhala",
    "sk": "Slovak", "sl": "Slovenian", "sn": "Shona", "so": "Somali", "sq": "Albanian", "sr": "Serbian",
    "ss": "Swati", "st": "Southern Sotho", "su": "Sundanese", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil",
    "te": "Telugu", "tg": "Tajik", "th": "Thai", "ti": "Tigrinya", "tk": "Turkmen", "tl": "Tagalog",
    "tn": "Tswana", "tr": "Turkish", "ts": "Tsonga", "tt": "Tatar", "ug": "Uyghur", "uk": "Ukrainian",
    "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "wo": "Wolof", "xh": "Xhosa", "yi": "Yiddish",
    "yo": "Yoruba", "zh": "Chinese", "zu": "Zulu",
    # ISO 639-3, no 639-1 code
    "pcm": "Nigerian Pidgin", "fon": "Fon", "twi": "Twi", "bem": "Bemba", "tir": "Tigrinya", "gaz": "Oromo",
    "kin": "Kinyarwanda", "luo": "Luo", "mos": "Mossi", "nso": "Northern Sotho", "kea": "Kabuverdianu",
    "fil": "Filipino", "yue": "Cantonese",
}

# The ISO 639-2 local-use range qaa–qtz: the synthetic world's languages.
SYNTHETIC_CODES: tuple[str, ...] = tuple(
    f"q{second}{third}" for second in "abcdefghijklmnopqrst" for third in string.ascii_lowercase
)

HIGH_RESOURCE = frozenset(
    "en ru id vi fa uk sv th ja de ro hu bg fr fi ko es pt el no nb da pl it nl zh ar cs tr he hi sk".split()
)

_SCRIPTS = {
    "Arabic": "ar fa ur ps sd ug ku", "Cyrillic": "ru uk bg be mk sr kk ky tg tt mn",
    "Devanagari": "hi mr ne sa", "Ethiopic": "am ti tir", "Han": "zh yue ja", "Hangul": "ko",
    "Greek": "el", "Hebrew": "he yi", "Thai": "th", "Bengali": "bn as", "Tamil": "ta", "Telugu": "te",
    "Kannada": "kn", "Malayalam": "ml", "Gujarati": "gu", "Gurmukhi": "pa", "Odia": "or", "Sinhala": "si",
    "Khmer": "km", "Lao": "lo", "Myanmar": "my", "Georgian": "ka", "Armenian": "hy", "Tibetan": "bo",
    "Thaana": "dv",
}
SCRIPTS: dict[str, str] = {code: script for script, codes in _SCRIPTS.items() for code in codes.split()}


def is_known(code: str) -> bool:
    """True for an ISO 639 code we know or a synthetic local-use code."""
    return code in LANGUAGES or code in SYNTHETIC_CODES


def language_name(code: str) -> str:
    if code in SYNTHETIC_CODES:
        return f"Synthetic-{code}"
    return LANGUAGES.get(code, code)


def resource_level(code: str) -> str:
    """``"high"`` or ``"low"`` for a real language (see the module docstring for the rule)."""
    return "high" if code in HIGH_RESOURCE else "low"


def script(code: str) -> str:
    """The main script a language is written in (Latin unless listed)."""
    return SCRIPTS.get(code, "Latin")
