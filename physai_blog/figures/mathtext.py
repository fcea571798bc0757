"""Matplotlib mathtext labels (``$\\|\\theta\\|_2$``) as plain Unicode text for the page."""

from __future__ import annotations

import re
import unicodedata

GREEK = {name: chr(code) for name, code in [
    ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 949),
    ("varepsilon", 949), ("zeta", 950), ("eta", 951), ("theta", 952), ("iota", 953),
    ("kappa", 954), ("lambda", 955), ("mu", 956), ("nu", 957), ("xi", 958), ("pi", 960),
    ("rho", 961), ("sigma", 963), ("tau", 964), ("phi", 966), ("varphi", 966), ("chi", 967),
    ("psi", 968), ("omega", 969), ("Gamma", 915), ("Delta", 916), ("Theta", 920),
    ("Lambda", 923), ("Xi", 926), ("Pi", 928), ("Sigma", 931), ("Phi", 934), ("Psi", 936),
    ("Omega", 937)]}
SYMBOLS = {"|": "‖", "propto": "∝", "cdot": "·", "times": "×", "leq": "≤", "le": "≤",
           "geq": "≥", "ge": "≥", "sim": "∼", "approx": "≈", "infty": "∞", "pm": "±",
           "to": "→", "ell": "ℓ", "partial": "∂", "nabla": "∇", "langle": "⟨", "rangle": "⟩",
           ",": " ", ";": " ", "!": "", " ": " ", "quad": " "}
SUB = str.maketrans("0123456789+-=()aeioruvxhklmnpst", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₒᵣᵤᵥₓₕₖₗₘₙₚₛₜ")
SUP = str.maketrans("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ")
ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "vec": "\u20d7", "dot": "\u0307"}


def plain(text: str) -> str:
    """``text`` with each ``$...$`` span turned into readable Unicode."""
    text = str(text or "")
    if text.count("$") < 2:
        return text
    parts = re.split(r"(?<!\\)\$", text)
    if len(parts) % 2 == 0:        # an odd number of $: the last one is a dollar sign
        parts[-2:] = [parts[-2] + "$" + parts[-1]]
    return unicodedata.normalize(
        "NFC", "".join(_math(p) if i % 2 else p for i, p in enumerate(parts)))


def _math(tex: str) -> str:
    tex = re.sub(r"\\(?:mathrm|mathit|mathbf|text|operatorname|mathcal)\s*(\{[^{}]*\})", r"\1",
                 tex)
    tex = re.sub(r"\\(hat|bar|tilde|vec|dot)\s*\{?(\w)\}?",
                 lambda m: m.group(2) + ACCENTS[m.group(1)], tex)
    tex = re.sub(r"\\([A-Za-z]+|[|,;! ])",
                 lambda m: GREEK.get(m.group(1), SYMBOLS.get(m.group(1), m.group(1))), tex)
    tex = re.sub(r"([_^])\{([^{}]*)\}|([_^])(\S)", _script, tex)
    return tex.replace("{", "").replace("}", "")


def _script(m: re.Match) -> str:
    mark, body = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    table = SUB if mark == "_" else SUP
    converted = body.translate(table)
    if all(c != o or c == " " for c, o in zip(converted, body)):
        return converted
    return mark + body if len(body) == 1 or body.isalnum() else f"{mark}({body})"
