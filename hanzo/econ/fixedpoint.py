"""Integer mirrors of the fixed-point functions the contracts use (solady's FixedPointMathLib).

The market maker prices with solady's `expWad` and `lnWad` (an audited library from npm; the
contract never hand-rolls them). For the reference model to match the contract wei for wei, these
functions repeat the same integer algorithm, operation by operation, with the EVM's semantics:
256-bit two's-complement wrap-around, signed division that truncates toward zero, and arithmetic
right shifts. The algorithm (Remco Bloemen's rational approximations) and its constants are the
library's; only the EVM semantics are spelled out here.
"""

from __future__ import annotations

WAD = 10**18
_MOD = 1 << 256
_HALF = 1 << 255
UINT256_MAX = _MOD - 1


class ExpOverflow(ArithmeticError):
    """expWad's argument is at least about 135.3 (the result would not fit an int256)."""


class LnUndefined(ArithmeticError):
    """lnWad's argument is not positive."""


def _s(v: int) -> int:
    """Wrap to a signed 256-bit integer, as the EVM does."""
    v &= UINT256_MAX
    return v - _MOD if v & _HALF else v


def _sdiv(a: int, b: int) -> int:
    """EVM sdiv: signed division truncating toward zero."""
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return _s(q if (a >= 0) == (b >= 0) else -q)


def exp_wad(x: int) -> int:
    """exp(x / 1e18) * 1e18, exactly as FixedPointMathLib.expWad."""
    if x <= -41446531673892822313:
        return 0
    if x >= 135305999368893231589:
        raise ExpOverflow(x)
    x = _sdiv(_s(x << 78), 5**18)
    k = _s(_sdiv(_s(x << 96), 54916777467707473351141471128) + 2**95) >> 96
    x = _s(x - _s(k * 54916777467707473351141471128))
    y = _s(x + 1346386616545796478920950773328)
    y = _s((_s(y * x) >> 96) + 57155421227552351082224309758442)
    p = _s(_s(y + x) - 94201549194550492254356042504812)
    p = _s((_s(p * y) >> 96) + 28719021644029726153956944680412240)
    p = _s(_s(p * x) + _s(4385272521454847904659076985693276 << 96))
    q = _s(x - 2855989394907223263936484059900)
    q = _s((_s(q * x) >> 96) + 50020603652535783019961831881945)
    q = _s((_s(q * x) >> 96) - 533845033583426703283633433725380)
    q = _s((_s(q * x) >> 96) + 3604857256930695427073651918091429)
    q = _s((_s(q * x) >> 96) - 14423608567350463180887372962807573)
    q = _s((_s(q * x) >> 96) + 26449188498355588339934803723976023)
    r = _sdiv(p, q)
    r_u = (r & UINT256_MAX) * 3822833074963236453042738258902158003155416615667 & UINT256_MAX
    return _s(r_u >> (195 - k))


def ln_wad(x: int) -> int:
    """ln(x / 1e18) * 1e18, exactly as FixedPointMathLib.lnWad."""
    if x <= 0:
        raise LnUndefined(x)
    r = 255 - (x.bit_length() - 1)
    x = ((x << r) & UINT256_MAX) >> 159
    p = _s(3273285459638523848632254066296 + x)
    p = _s(24828157081833163892658089445524 + (_s(p * x) >> 96))
    p = _s(43456485725739037958740375743393 + (_s(p * x) >> 96))
    p = _s((_s(p * x) >> 96) - 11111509109440967052023855526967)
    p = _s((_s(p * x) >> 96) - 45023709667254063763336534515857)
    p = _s((_s(p * x) >> 96) - 14706773417378608786704636184526)
    p = _s(_s(p * x) - (795164235651350426258249787498 << 96))
    q = _s(5573035233440673466300451813936 + x)
    q = _s(71694874799317883764090561454958 + (_s(x * q) >> 96))
    q = _s(283447036172924575727196451306956 + (_s(x * q) >> 96))
    q = _s(401686690394027663651624208769553 + (_s(x * q) >> 96))
    q = _s(204048457590392012362485061816622 + (_s(x * q) >> 96))
    q = _s(31853899698501571402653359427138 + (_s(x * q) >> 96))
    q = _s(909429971244387300277376558375 + (_s(x * q) >> 96))
    p = _sdiv(p, q)
    p = _s(1677202110996718588342820967067443963516166 * p)
    p = _s(_s(16597577552685614221487285958193947469193820559219878177908093499208371 * (159 - r)) + p)
    p = _s(600920179829731861736702779321621459595472258049074101567377883020018308 + p)
    return p >> 174


def mul_div(x: int, y: int, d: int) -> int:
    """floor(x * y / d) for non-negative operands (solady fullMulDiv: exact 512-bit product)."""
    if d == 0:
        raise ZeroDivisionError("mul_div by zero")
    z = x * y // d
    if z > UINT256_MAX:
        raise OverflowError("mul_div result exceeds uint256")
    return z


def mul_div_up(x: int, y: int, d: int) -> int:
    """ceil(x * y / d) for non-negative operands (solady fullMulDivUp)."""
    if d == 0:
        raise ZeroDivisionError("mul_div_up by zero")
    z = -(-(x * y) // d)
    if z > UINT256_MAX:
        raise OverflowError("mul_div_up result exceeds uint256")
    return z
