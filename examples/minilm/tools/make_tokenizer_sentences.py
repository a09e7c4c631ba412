#!/usr/bin/env python3
"""Writes examples/minilm/tests/tokenizer-sentences.jsonl, the tokenizer test's sentences.

    python3 examples/minilm/tools/make_tokenizer_sentences.py > examples/minilm/tests/tokenizer-sentences.jsonl

One JSON string a line (so that controls, NUL and line breaks can be in a sentence): written
sentences of many scripts and kinds (punctuation, accents, CJK, emoji, the special tokens spelled
out, numbers, code), the edge cases of each tokenizer rule (empty, whitespace only, controls,
combining marks in odd orders, a word of 100 and of 101 characters, more than 256 tokens), and
strings drawn at random (fixed seed) from a mix of those characters. The expected ids are not
here: the test asks Hugging Face's `tokenizers` for them each time it runs.
"""
import json
import random

WRITTEN = [
    "The new movie is awesome",
    "The new movie is so great",
    "A man is eating food.",
    "A man is riding a white horse on an enclosed ground.",
    "Hello, world!",
    "HELLO WORLD",
    "hello   world",
    "Don't stop believing; it's (almost) over -- isn't it?",
    "She said: \"Well... I'm not sure.\"",
    "Email me at someone@example.com or visit https://example.org/path?q=1&x=2#frag.",
    "The price is $3.50 (or 4,99 EUR), 15% off; 2+2=4 and 3<5>1.",
    "C:\\Users\\name\\Documents\\file.txt",
    "int main(void) { return a[i] + b->c * (d % e); }",
    "def f(x): return x ** 2  # comment",
    "SELECT * FROM users WHERE id = 42;",
    "Version 1.2.3-rc.1+build.5, released 2024-03-15T12:00:00Z.",
    "Mr. Smith went to Washington D.C. on Jan. 5th at 3 p.m.",
    "50°C is 122°F; ±0.5 mm; 10 µm; ½ cup; 3² = 9; x³; ∑ ∫ ∞ ≈ ≠ ≤ ≥",
    "Café crème brûlée, naïve résumé, jalapeño, façade, coöperate.",
    "Ünïcödé àççéntš: Ångström, Øresund, Łódź, Dvořák, Škoda, Ærøskøbing.",
    "Straße, STRASSE, Maß, Größe, Fußgängerübergänge.",
    "İstanbul, ıspanak, Iğdır, DİYARBAKIR",
    "ΟΔΥΣΣΕΥΣ Ὀδυσσεύς; Σίσυφος ἀρετή, Ελληνικά κείμενα.",
    "Москва — столица России. Ёлка, ЁЖ, йогурт.",
    "Київ, Україна; Беларусь; Србија; България.",
    "Tiếng Việt có nhiều dấu: Hà Nội, Thành phố Hồ Chí Minh, Nguyễn.",
    "Polski: zażółć gęślą jaźń. Čeština: příliš žluťoučký kůň.",
    "Español: ¿Dónde está la biblioteca? ¡Olé! Niño, año, pingüino.",
    "Português: São Paulo, coração, ação, pão, avô, avó.",
    "Français : « guillemets », l’apostrophe, l'été, Noël, œuvre, Œdipe.",
    "Deutsch: „Anführungszeichen“ und ‚halbe‘ — Gedankenstrich – Bindestrich.",
    "Norsk: blåbærsyltetøy; Íslenska: Þingvellir, Ðð; Føroyskt.",
    "Română: ștefan, țară, înțelepciune; Magyar: árvíztűrő tükörfúrógép.",
    "我爱自然语言处理。今天天气很好！",
    "北京是中华人民共和国的首都，人口超过两千万。",
    "中文混合English和数字123的句子。",
    "日本語のテキスト：東京は日本の首都です。ひらがな、カタカナ、漢字。",
    "ｶﾀｶﾅ半角とＦＵＬＬＷＩＤＴＨ　ｌｅｔｔｅｒｓ１２３！",
    "한국어 문장입니다. 서울은 대한민국의 수도입니다.",
    "안녕하세요, 세계! 한글 자모: ㄱㄴㄷ ㅏㅑㅓ",
    "繁體中文：臺灣、香港、澳門。",
    "CJK compatibility: 豈更車賈滑 and extension B: 𠀀𠀁𠀂 𪚥",
    "العربية: مرحبا بالعالم! السلام عليكم، كيف حالك؟",
    "עברית: שלום עולם, מה שלומך?",
    "हिन्दी: नमस्ते दुनिया। क्या हाल है?",
    "বাংলা: আমি বাংলায় গান গাই।",
    "தமிழ்: வணக்கம் உலகம்",
    "ไทย: สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง",
    "ქართული: გამარჯობა მსოფლიო",
    "Հայերեն: Բարեւ աշխարհ",
    "አማርኛ: ሰላም ለዓለም",
    "Emoji: 😀😃😄 👍🏽 ❤️ 🎉🎊 🇫🇷🇯🇵 👨‍👩‍👧‍👦 🏳️‍🌈",
    "I love it 😍😍😍!!! #blessed @friend",
    "Weather: ☀️ → 🌧️ → ⛈️; chess ♔♕♖; cards ♠♥♦♣; music ♪♫",
    "Math: α + β = γ; ∀x ∃y: x ∈ ℝ ⇒ y ∉ ∅; ℵ₀; 𝔸𝔹ℂ; 𝓐𝓑𝓒; 𝟘𝟙𝟚",
    "Arrows and boxes: ← ↑ → ↓ ↔ ⇐ ⇒ ┌─┐ │ └─┘ ■□▲△●○",
    "Currency: $ € £ ¥ ₹ ₽ ₩ ₿ ¢",
    "Quotes: “double” ‘single’ «angle» ‹single angle› „low“ 「corner」『white corner』【lenticular】",
    "Dashes: - ‐ ‑ ‒ – — ― ⁃ and dots … ‥ · • ‧",
    "Unusual spaces:\u00a0nbsp,\u2003em,\u2009thin,\u3000ideographic,\u202fnarrow.",
    "Zero width:\u200bspace,\u200cnon-joiner,\u200djoiner,\ufeffBOM,\u00adsoft\u00adhyphen.",
    "Controls:\ttab,\nnewline,\rreturn,\x0bvt,\x0cff,\x1bescape,\x7fdel,\x85nel.",
    "NUL inside: a\x00b and replacement \ufffd char.",
    "Private use: \ue000\uf8ff and plane 15: \U000f0000 end.",
    "Unassigned: \u0378 \u0380 \U0001fffe and noncharacter \ufdd0.",
    "[CLS] hello [SEP] world [SEP]",
    "[MASK] is the capital of France.",
    "Paris is the capital of [MASK].",
    "foo[UNK]bar[PAD]baz",
    "[cls] lowercase specials [sep] are words",
    "[CLS[SEP]] [[MASK]] [ SEP ] [SEP",
    "[UNK][UNK][UNK]",
    "Supercalifragilisticexpialidocious and pneumonoultramicroscopicsilicovolcanoconiosis.",
    "antidisestablishmentarianism, floccinaucinihilipilification, hippopotomonstrosesquippedaliophobia",
    "unbelievable, unbelievably, disbelief, believer; running, runner, ran",
    "Tokenization of words like preprocessing, tokenizer, embeddings and transformers.",
    "1234567890 3.14159265358979 1e-10 0x1F 0b1010 1,000,000 1.000.000",
    "Phone: +1 (555) 123-4567; ISBN 978-3-16-148410-0.",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "A.B.C.D.E.F.G.",
    "!!!???...,,,;;;:::",
    "''\"\"``~~^^||\\\\//",
    "(((nested))) [[brackets]] {{braces}} <<angles>>",
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "How vexingly quick daft zebras jump!",
    "Sphinx of black quartz, judge my vow.",
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
    "To be, or not to be, that is the question.",
    "All happy families are alike; each unhappy family is unhappy in its own way.",
    "Call me Ishmael.",
    "In the beginning God created the heaven and the earth.",
    "Machine learning models convert sentences into dense vector representations.",
    "Sentence embeddings are useful for semantic search, clustering and retrieval.",
    "Two sentences with similar meaning should have a high cosine similarity.",
    "The cat sits on the mat.",
    "A feline rests on a rug.",
    "The stock market crashed yesterday.",
    "Investors lost billions as shares plunged.",
    "xhal runs GEMM and attention kernels on CPUs and GPUs alike.",
    "CamelCaseWords and snake_case_words and kebab-case-words and SCREAMING_CASE.",
    "HTML: <div class=\"x\">Hello &amp; goodbye</div>",
    "JSON: {\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "Markdown: **bold** _italic_ `code` [link](http://x.y) # heading",
    "Tab\tseparated\tvalues\tand\ttrailing\ttabs\t\t",
    "   leading and trailing spaces   ",
    "Line one\nLine two\r\nLine three\rLine four",
    "Combining: e\u0301 a\u0300 o\u0308 n\u0303 c\u0327 (decomposed accents)",
    "Stacked marks: a\u0316\u0301 a\u0301\u0316 q\u0307\u0323 \u1e0b\u0323",
    "Marks alone: \u0301\u0302 \u0300 and after space \u0308",
    "Spacing marks: का कि की कु कू के कै को कौ क्ष",
    "Musical symbols: \U0001d15e \U0001d165\U0001d16d \U0001d16d\U0001d165 \U0001d1bf",
    "Old punctuation: \u2e43 \u2e44 \u2e4f \u2e52 \u061d \u1b7d and \u1734 \u0890",
    "Newer scripts: \U00011938 \U00011935\U00011930 \U00010ead \U000111c9 \u166d",
    "Ligatures: ﬁ ﬂ ﬀ ﬃ Ǆ ǅ ǆ Ĳ ĳ Œ œ",
    "Roman numerals Ⅰ Ⅱ Ⅲ Ⅳ ⅰ ⅱ ⅲ; circled ① ② ⓐ Ⓐ; superscripts ⁰¹²³⁴",
    "Title case: ǅungla, ᾈ ᾉ ᾊ; Kelvin K; Ohm Ω; Angstrom Å",
    "Greek final sigma: ΟΣ ΌΣΟΣ σς; Turkish dotless: ı I İ i",
    "Armenian ligature և and ﬓ; German ẞ; Cherokee Ꭰ ꭰ",
    "Deseret 𐐀𐐨; Osage 𐒰𐓘; Adlam 𞤀𞤢; Glagolitic Ⰰⰰ",
    "Hangul jamo sequences: \u1100\u1161\u11a8 vs \uac01",
    "Mixed: Ça va? 你好! Привет! مرحبا! 🙂 Ñandú.",
    "emoji with text: I❤NY, 5⭐ review, ✔ done, ✘ failed, ⚠ warning",
    "Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣ and variation selectors ︎ ️",
    "Skin tones 👋🏻👋🏼👋🏽👋🏾👋🏿 and families 👩‍❤️‍👨 👩‍💻",
    "Tags flag: 🏴󠁧󠁢󠁳󠁣󠁴󠁿 and regional indicators 🇺🇸🇩🇪",
    "Braille ⠓⠑⠇⠇⠕ and dingbats ✂ ✈ ✉ ✏ ✒",
    "Yi ꀀꀁ; Tifinagh ⴰⴱ; Ethiopic ሀሁ; Cherokee ᏣᎳᎩ",
    "",
    " ",
    "\t\n\r",
    "\u3000\u00a0\u2028\u2029",
    ".",
    "a",
    "A",
    "é",
    "中",
    "😀",
    "##",
    "##ing",
    "[SEP]",
    "[CLS][SEP]",
]


def long_cases():
    out = []
    out.append("a" * 100)  # the longest word WordPiece tries
    out.append("a" * 101)  # one more: [UNK]
    out.append("é" * 100 + " " + "é" * 101)  # counted in characters, after normalization
    out.append("\u00e9\u0301" * 60)  # 120 code points in, 60 after the marks go
    out.append("x" * 1000 + " short words after")
    out.append("word " * 300)  # more than 256 tokens: cut
    out.append("This sentence is repeated to be long. " * 40)
    out.append("，".join(["中文"] * 200))
    out.append(" ".join(str(i) for i in range(400)))
    out.append("😀" * 300)
    out.append("a" * 99 + "😀")
    out.append("unbelievable" * 9)  # 108 characters: [UNK]
    out.append("supercalifragilistic" * 5)  # 100 characters exactly
    return out


def random_cases(rng, count):
    pools = [
        [chr(c) for c in range(0x20, 0x7F)],
        [chr(c) for c in range(0xA0, 0x250)],
        [chr(c) for c in range(0x300, 0x370)],  # combining marks
        [chr(c) for c in range(0x370, 0x530)],  # Greek, Cyrillic
        [chr(c) for c in range(0x4E00, 0x4E80)],
        [chr(c) for c in range(0x3040, 0x3100)],
        [chr(c) for c in range(0xAC00, 0xAC80)],
        [chr(c) for c in range(0x1F600, 0x1F650)],
        [chr(c) for c in range(0x2000, 0x2070)],  # spaces, format characters, punctuation
        [chr(c) for c in range(0x0, 0x20)] + ["\x7f", "\x85", "\ufeff", "\ufffd"],
        [chr(c) for c in range(0x900, 0x980)],  # Devanagari: Mn and Mc marks
        [chr(c) for c in range(0x2E00, 0x2E60)],  # supplemental punctuation, old and new
        [chr(c) for c in range(0xFF00, 0xFF70)],  # fullwidth forms
        [" "] * 8,
        ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "##", "["],
    ]
    out = []
    for _ in range(count):
        n = rng.randint(1, 60)
        chosen = rng.sample(range(len(pools)), rng.randint(1, 4))
        out.append("".join(rng.choice(pools[rng.choice(chosen)]) for _ in range(n)))
    return out


def words_cases(rng, count):
    """Sentences of English-like words, some glued with punctuation, some capitalized."""
    words = ("the of and to in is you that it he was for on are as with his they at be this "
             "have from or one had by word but not what all were we when your can said there use "
             "an each which she do how their if will up other about out many then them these so "
             "some her would make like him into time has look two more write go see number no "
             "way could people my than first water been call who oil its now find long down day "
             "did get come made may part tokenizer embedding transformer attention kernel device "
             "throughput latency quantization inference unbelievably prehistoric").split()
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 30)):
            w = rng.choice(words)
            r = rng.random()
            if r < 0.1:
                w = w.capitalize()
            elif r < 0.15:
                w = w.upper()
            elif r < 0.25:
                w += rng.choice(",.;:!?)'\"-")
            elif r < 0.3:
                w = rng.choice("(\"'[") + w
            parts.append(w)
        out.append(" ".join(parts))
    return out


def main():
    rng = random.Random(13)
    sentences = WRITTEN + long_cases() + words_cases(rng, 60) + random_cases(rng, 140)
    for s in sentences:
        print(json.dumps(s, ensure_ascii=True))


if __name__ == "__main__":
    main()
