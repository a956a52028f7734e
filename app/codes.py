"""Codes people read aloud and type by hand: receipt codes and pledge references.

One alphabet for all of them, so a donor who learnt one knows the other. Depends on
nothing in the domain: contributions and pledges both build their formats on it.
"""

import secrets

# No 0/O, no 1/I: read aloud over the phone, typed by hand into a bank transfer message.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# 32 characters, and 32 divides 256: `byte % 32` picks each one equally often.
assert len(CODE_ALPHABET) == 32


def random_code(length: int) -> str:
    """`length` characters of `CODE_ALPHABET`, each uniformly random and independent.

    One urandom call per code (not one per character) keeps a statement of 100,000
    receipts fast.
    """
    return "".join(CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(length))
