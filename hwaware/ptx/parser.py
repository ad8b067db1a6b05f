"""A parser for PTX as emitted by nvcc, NVRTC, LLVM NVPTX (XLA), TVM and Triton (ISA 6-9).

It keeps what execution and counting need — functions, parameters, register and variable
declarations, labels, instructions with guards, modifiers and operands (registers, immediates,
addresses, vectors and braced operands, ``a|b`` pairs, symbols) and each instruction's source line
— and skips what they do not: comments, ``.loc``/``.file``, DWARF ``.section`` blocks, pragmas.
Errors carry file, line and column. :func:`format_module` prints a module that parses back to
the same structure (round trip).
"""
from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from hwaware.errors import PTXParseError

# a token with the blanks before it, or (``end``) the end of the text: one finditer pass tokenizes
_SCAN = re.compile(r"""[ \t\r]*(?:
    (?P<nl>\n) | (?P<comment>//[^\n]*) | (?P<block>/\*.*?\*/) |
    (?P<string>"(?:[^"\\\n]|\\.)*") |
    (?P<float>0[fF][0-9a-fA-F]{8}|0[dD][0-9a-fA-F]{16}) |
    (?P<number>0[xX][0-9a-fA-F]+U?|\d+\.\d*(?:[eE][+-]?\d+)?|\d+U?) |
    (?P<name>[%$.]?[A-Za-z_$][\w$.]*|%[\w$.]+) |
    (?P<punct>[,;:{}\[\]()<>+\-!@|=*]) |
    (?P<end>\Z))
""", re.S | re.X)




class Token:
    """One token (``kind``: nl, name, number, float, string, punct, eof) and where it starts. A plain slotted class:
    the tokenizer makes ~100k of them per network, which a frozen dataclass's ``__init__`` makes twice as slow."""

    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind: str, text: str, line: int, col: int) -> None:
        self.kind, self.text, self.line, self.col = kind, text, line, col

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.line}, {self.col})"


@dataclass(frozen=True)
class Operand:
    """kind: reg, imm, float, symbol, addr, vec, pair, sink. ``neg`` for ``!%p`` / ``-x``."""

    kind: str
    value: object = None  # reg/symbol name, int, float bits (int), or tuple of operands
    offset: int = 0  # address offset
    neg: bool = False

    def __str__(self) -> str:
        pre = "!" if self.neg and self.kind == "reg" else ("-" if self.neg else "")
        if self.kind in ("reg", "symbol", "imm"):
            return f"{pre}{self.value}"
        if self.kind == "float":
            return f"{pre}{self.value}"
        if self.kind == "addr":
            if self.value is None:
                return f"[{self.offset}]"
            return f"[{self.value}{'+' if self.offset > 0 else ''}{self.offset if self.offset else ''}]"
        if self.kind == "vec":
            return "{" + ", ".join(map(str, self.value)) + "}"  # type: ignore[arg-type]
        if self.kind == "pair":
            return "|".join(map(str, self.value))  # type: ignore[arg-type]
        if self.kind == "sink":
            return "_"
        if self.kind == "list":
            return "(" + ", ".join(map(str, self.value)) + ")"  # type: ignore[arg-type]
        raise ValueError(self.kind)


class _once:
    """A property computed on first access and stored in the instance's ``__dict__`` (which then shadows it):
    ``functools.cached_property`` without its lock, which costs more than the computation here."""

    def __init__(self, f) -> None:  # type: ignore[no-untyped-def]
        self.f, self.name = f, f.__name__

    def __get__(self, obj, cls=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.f(obj)
        return value


@dataclass(frozen=True)
class Instruction:
    opcode: str  # e.g. "ld.global.nc.f32"
    operands: tuple[Operand, ...]
    guard: str | None = None  # predicate register
    guard_neg: bool = False
    line: int = 0
    col: int = 0
    counted_as: str = ""  # the opcode an inlined call's rewritten instruction stands for (hwaware.ptx.calls)

    @_once  # read for every instruction the engine evaluates: split once
    def base(self) -> str:
        return self.opcode.split(".", 1)[0]

    @_once
    def mods(self) -> tuple[str, ...]:
        return tuple(self.opcode.split(".")[1:])

    def __str__(self) -> str:
        g = f"@{'!' if self.guard_neg else ''}{self.guard} " if self.guard else ""
        ops = ", ".join(map(str, self.operands))
        return f"{g}{self.opcode}{' ' + ops if ops else ''};"


@dataclass
class Variable:
    """A .shared/.global/.const/.local declaration: bytes = element size x count."""

    space: str
    name: str
    dtype: str
    count: int  # 0 for an extern unsized array
    align: int = 0
    extern: bool = False
    # the initializer's items as written (``0f40000000``, ``-3``, ``generic(x)``), flattened; None without one
    init: tuple[str, ...] | None = None

    @property
    def nbytes(self) -> int:
        return _type_size(self.dtype) * self.count


@dataclass
class Param:
    name: str
    dtype: str
    attrs: tuple[str, ...] = ()  # .ptr, .global, .align N ...
    count: int = 1


@dataclass
class Function:
    name: str
    kind: str  # entry | func
    params: list[Param]
    registers: dict[str, str] = field(default_factory=dict)  # name -> type
    variables: list[Variable] = field(default_factory=list)
    body: list[Instruction | str] = field(default_factory=list)  # instructions and label names
    directives: dict[str, tuple[int, ...]] = field(default_factory=dict)  # .maxntid/.reqntid/...
    linkage: str = ""
    line: int = 0
    returns: list[Param] = field(default_factory=list)  # a .func's return parameters
    # .param declarations in the body (call sequences' arguments and results); those inside braces renamed as
    # registers declared there are (see _Parser.body)
    call_params: dict[str, Param] = field(default_factory=dict)
    redeclared: list[str] = field(default_factory=list)  # registers declared again inside braces (see _Parser.declare)

    @property
    def instructions(self) -> list[Instruction]:
        return [s for s in self.body if isinstance(s, Instruction)]


@dataclass
class Module:
    version: str = ""
    target: str = ""
    address_size: int = 64
    variables: list[Variable] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    file: str = "<ptx>"
    source_names: dict[str, str] = field(default_factory=dict)  # PTX parameter -> CUDA name (from -G debug info)

    def entry(self, name: str | None = None) -> Function:
        entries = [f for f in self.functions if f.kind == "entry" and f.body]
        if not entries:  # an empty file, or a module of device functions only
            raise PTXParseError("no kernel (.entry with a body) in the module; pass the PTX of a __global__ function "
                                "(nvcc -ptx or NVRTC writes it)", file=self.file)
        if name is None:
            if len(entries) != 1:
                raise PTXParseError(f"the module has {len(entries)} kernels ({', '.join(f.name for f in entries)}); "
                                    "name the one to analyse", file=self.file)
            return entries[0]
        for f in entries:
            if f.name == name:
                return f
        raise PTXParseError(f"no kernel {name!r}; kernels: {', '.join(f.name for f in entries)}", file=self.file)


MAX_REGISTER_VECTOR = 1 << 20  # registers of one %r<N> declaration: far above any compiler's output


def _type_size(dtype: str) -> int:
    t = dtype.lstrip(".")
    if t == "pred":
        return 1
    digits = "".join(c for c in t if c.isdigit())
    return max(int(digits) // 8, 1) if digits else 4


class _Parser:
    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.toks = self._tokenize(text)
        self.i = 0
        self.mod = Module(file=file)
        # names declared inside braces within a body (inline asm's "{.reg .f16 low,high; ...}", call sequences'
        # ".param .b32 param0;"), innermost scope last: each maps to a function-wide name of its own
        self.renames: list[dict[str, str]] = []
        self.scopes = 0
        # per open brace scope: where its instructions begin in the body, its labels' function-wide names, its number
        self.scope_labels: list[tuple[int, dict[str, str], int]] = []

    def _tokenize(self, text: str) -> list[Token]:
        """One pass of ``_SCAN``: each match is a token with the blanks before it. Text no match covers (a gap before
        a match, found by comparing positions) is an unexpected character, reported at its line and column."""
        toks: list[Token] = []
        append = toks.append
        line, line_start, pos = 1, 0, 0
        for m in _SCAN.finditer(text):
            if m.start() != pos:
                break  # ``pos``: the first character no token starts at
            kind = m.lastgroup
            end = pos = m.end()
            if kind == "nl":
                append(Token("nl", "\n", line, end - line_start))
                line, line_start = line + 1, end
            elif kind == "name" or kind == "punct" or kind == "number":
                tok = m.group(kind)
                append(Token(kind, tok, line, end - len(tok) - line_start + 1))
            elif kind == "block":
                tok = m.group(kind)
                if "\n" in tok:
                    line, line_start = line + tok.count("\n"), end - len(tok) + tok.rfind("\n") + 1
            elif kind == "end":
                append(Token("eof", "", line, end - line_start + 1))
                return toks
            elif kind != "comment":
                tok = m.group(kind)
                append(Token(kind, tok, line, end - len(tok) - line_start + 1))
        while pos < len(text) and text[pos] in " \t\r":
            pos += 1
        raise PTXParseError(f"unexpected character {text[pos]!r}", file=self.file, line=line,
                            column=pos - line_start + 1)

    # -- token helpers -----------------------------------------------------------------------------------------------
    def peek(self, skip_nl: bool = True) -> Token:
        toks, j = self.toks, self.i
        t = toks[j]
        while skip_nl and t.kind == "nl":
            j += 1
            t = toks[j]
        return t

    def next(self, skip_nl: bool = True) -> Token:
        toks, i = self.toks, self.i
        t = toks[i]
        while skip_nl and t.kind == "nl":
            i += 1
            t = toks[i]
        self.i = i if t.kind == "eof" else i + 1  # the end stays the end: callers see eof and report it
        return t

    def error(self, msg: str, tok: Token | None = None) -> PTXParseError:
        tok = tok or self.peek()
        return PTXParseError(msg, file=self.file, line=tok.line, column=tok.col)

    def expect(self, text: str) -> Token:
        t = self.next()
        if t.text != text:
            raise self.error(f"expected {text!r}, found {t.text or 'end of file'!r}", t)
        return t

    def accept(self, text: str) -> bool:
        if self.peek().text == text:
            self.next()
            return True
        return False

    def rest_of_line(self) -> list[Token]:
        out = []
        while self.toks[self.i].kind not in ("nl", "eof"):
            out.append(self.toks[self.i])
            self.i += 1
        return out

    def skip_braces(self) -> list[Token]:
        """Skip a balanced ``{ ... }`` block; return the tokens inside it."""
        self.expect("{")
        depth = 1
        inside = []
        while True:
            t = self.next()
            if t.kind == "eof":
                raise self.error("unterminated { block", t)
            depth += {"{": 1, "}": -1}.get(t.text, 0)
            if not depth:
                return inside
            inside.append(t)

    def section(self, mod: Module) -> None:
        """A DWARF ``.section``: skipped, except that ``.debug_info`` yields the source names of parameters."""
        self.next()
        name = self.peek().text
        while self.peek().text != "{":
            if self.next().kind == "eof":
                raise self.error("unterminated .section: expected '{'")
        inside = self.skip_braces()
        if name == ".debug_info":
            mod.source_names.update(_dwarf_param_names(inside))

    def integer(self, tok: Token) -> int:
        text = tok.text.rstrip("U")
        try:
            return int(text, 0)
        except ValueError:
            raise self.error(f"expected an integer, found {tok.text!r}", tok) from None

    # -- module ------------------------------------------------------------------------------------------------------
    def module(self) -> Module:
        mod = self.mod
        while True:
            t = self.peek()
            if t.kind == "eof":
                return mod
            if t.text == ".version":
                self.next()
                mod.version = "".join(x.text for x in self.rest_of_line())
            elif t.text == ".target":
                self.next()
                mod.target = "".join(x.text for x in self.rest_of_line())
            elif t.text == ".address_size":
                self.next()
                mod.address_size = self.integer(self.next())
            elif t.text in (".file", ".loc"):
                self.next()
                self.rest_of_line()
            elif t.text == ".section":
                self.section(mod)
            elif t.text in (".visible", ".extern", ".weak", ".entry", ".func", ".global", ".shared", ".const",
                            ".local", ".common", ".tex", ".surfref", ".texref", ".samplerref"):
                self.declaration(mod)
            elif t.text == ";":
                self.next()
            else:
                raise self.error(f"unexpected {t.text!r} at module level")

    def declaration(self, mod: Module) -> None:
        linkage = []
        start = self.peek()
        while self.peek().text in (".visible", ".extern", ".weak", ".common"):
            linkage.append(self.next().text)
        t = self.peek()
        if t.text in (".entry", ".func"):
            mod.functions.append(self.function(" ".join(linkage), start.line))
        else:
            mod.variables.append(self.variable(extern=".extern" in linkage))

    def variable(self, extern: bool = False) -> Variable:
        space = self.next().text.lstrip(".")
        align, dtype, lanes = 0, ".b8", 1
        while self.peek().text.startswith(".") or self.peek().text in ("align",):
            t = self.next()
            if t.text == ".align":
                align = self.integer(self.next())
            elif t.text in (".ptr",):
                continue
            elif t.text in (".v2", ".v4", ".v8"):  # a vector variable: its lanes are elements
                lanes = int(t.text[2:])
            else:
                dtype = t.text
        name = self.next()
        if name.kind != "name":
            raise self.error(f"expected a variable name, found {name.text!r}", name)
        count = 1
        if self.accept("["):
            count = 0 if self.peek().text == "]" else self.integer(self.next())
            self.expect("]")
            while self.accept("["):  # multi-dimensional
                count *= self.integer(self.next())
                self.expect("]")
        count *= lanes
        init = None
        if self.accept("="):  # initialiser: a brace list or one expression (-3, generic(x))
            toks = []
            while self.peek().text != ";":
                t = self.next()
                if t.kind == "eof":
                    raise self.error(f"unterminated initializer of {name.text}", t)
                toks.append(t.text if t.text not in "{}" else ",")
            init = tuple(i for i in "".join(toks).split(",") if i)
            count = count or len(init)  # an unsized array sized by its initializer
        self.expect(";")
        return Variable(space, name.text, dtype, count, align, extern, init)

    def function(self, linkage: str, line: int) -> Function:
        kind = self.next().text.lstrip(".")
        returns = self.param_list() if kind == "func" and self.peek().text == "(" else []
        name = self.next()
        if name.kind != "name":
            raise self.error(f"expected a function name, found {name.text!r}", name)
        fn = Function(name=name.text, kind=kind, params=self.param_list() if self.peek().text == "(" else [],
                      linkage=linkage, line=line, returns=returns)
        while self.peek().text in (".maxntid", ".reqntid", ".minnctapersm", ".maxnreg", ".maxnctapersm", ".noreturn",
                                   ".pragma", ".explicitcluster", ".reqnctapercluster", ".maxclusterrank"):
            d = self.next().text
            vals = []
            for t in self.rest_of_line():
                if t.kind == "number":
                    vals.append(self.integer(t))
            fn.directives[d] = tuple(vals)
        if self.accept(";"):
            return fn  # a declaration (prototype)
        self.body(fn)
        return fn

    def param_list(self) -> list[Param]:
        self.expect("(")
        params = []
        while not self.accept(")"):
            params.append(self.param())
            if not self.accept(","):
                self.expect(")")
                break
        return params

    def param(self) -> Param:
        """``.param [.align N] [.ptr ...] .type name[count]`` (without a terminator)."""
        self.expect(".param")
        attrs, dtype = [], ".b32"
        while self.peek().text.startswith("."):
            t = self.next().text
            if t == ".align":
                attrs.append(f".align {self.integer(self.next())}")
            elif t in (".ptr", ".global", ".shared", ".const", ".local"):
                attrs.append(t)
            else:
                dtype = t
        name = self.next()
        count = 1
        if self.accept("["):
            count = self.integer(self.next())
            self.expect("]")
        return Param(name.text, dtype, tuple(attrs), count)

    def scoped(self, name: str) -> str:
        """The function-wide name of ``name`` declared in the innermost open brace scope (else ``name``)."""
        if self.renames:
            for scope in reversed(self.renames):
                if name in scope:
                    return scope[name]
        return name

    def declare(self, name: str, fn: Function) -> str:
        """Declare ``name`` in the current scope: unchanged in the body's own scope; inside braces a name of its own
        (``%low$s3``), which starts with ``%`` as registers do, since PTX lets inline asm name them ``low``. A name
        the enclosing scopes already declare stays theirs, as GPGPU-Sim skips such a declaration (ptxas makes a new
        register; nvcc's __syncthreads_or declares %p1 and %p2 again so, whose enclosing values are dead there):
        recorded in ``fn.redeclared``, which the counts' notes name."""
        if not self.renames:
            return name
        held = self.scoped(name)
        if held in fn.registers or held in fn.call_params:
            fn.redeclared.append(name)
            return held
        if name in self.renames[-1]:  # this block's variable (an enclosing one's is shadowed)
            raise self.error(f"{name} is declared twice in {fn.name}; rename one", self.toks[self.i - 1])
        new = self.renames[-1][name] = f"%{name.lstrip('%')}$s{self.scope_labels[-1][2]}"
        return new

    def close_scope(self, fn: Function) -> None:
        """Leave a brace scope: branches in it to labels defined in it (before or after them) take those labels'
        function-wide names, as each brace block's labels are its own (ptxas and GPGPU-Sim)."""
        self.renames.pop()
        start, labels, _ = self.scope_labels.pop()
        if labels:
            fn.body[start:] = [renamed(s, labels) if isinstance(s, Instruction) else s for s in fn.body[start:]]

    def body(self, fn: Function) -> None:
        self.expect("{")
        depth = 1
        labels: set[str] = set()
        while depth:
            t = self.peek()
            if t.kind == "eof":
                raise self.error(f"unterminated body of {fn.name}", t)
            if t.text == "{":
                self.next()
                depth += 1
                self.scopes += 1
                self.renames.append({})
                self.scope_labels.append((len(fn.body), {}, self.scopes))
            elif t.text == "}":
                self.next()
                depth -= 1
                if depth:
                    self.close_scope(fn)
            elif t.text == ".reg":
                self.registers(fn)
            elif t.text == ".param":
                p = self.param()
                self.expect(";")
                p.name = self.declare(p.name, fn)
                fn.call_params[p.name] = p
            elif t.text in (".shared", ".local", ".const", ".global"):
                v = self.variable()
                if v.name in (self.renames[-1] if self.renames else {w.name for w in fn.variables}):
                    raise self.error(f"{v.name} is declared twice in {fn.name}; rename one", t)
                if self.renames:  # a brace block's own, shadowing an enclosing one of that name, as ptxas reads it
                    new = self.renames[-1][v.name] = f"{v.name}$s{self.scope_labels[-1][2]}"
                    v = replace(v, name=new)
                fn.variables.append(v)
            elif t.text in (".loc", ".pragma", ".file"):
                self.next()
                self.rest_of_line()
                self.accept(";")
            elif t.text == ".section":
                self.section(self.mod)
            elif t.kind == "name" and self._next_is_colon() and not t.text.startswith("%"):
                self.next()
                self.expect(":")
                if self.peek().text in (".callprototype", ".calltargets"):  # an indirect call's declaration
                    while (end := self.next()).text != ";":
                        if end.kind == "eof":
                            raise self.error(f"unterminated {t.text} declaration", end)
                    continue
                name = t.text
                if self.scope_labels:
                    name = self.scope_labels[-1][1][t.text] = f"{t.text}$s{self.scope_labels[-1][2]}"
                if name in labels:
                    raise self.error(f"label {t.text} is defined twice in {fn.name}; rename one", t)
                labels.add(name)
                fn.body.append(name)
            elif t.text == ";":
                self.next()
            else:
                fn.body.append(self.instruction())

    def _next_is_colon(self) -> bool:
        """Whether the token after the next one is ':' (a label)."""
        j = self.i
        while self.toks[j].kind == "nl":
            j += 1
        return self.toks[j + 1].text == ":"

    def registers(self, fn: Function) -> None:
        self.expect(".reg")
        dtype = self.next().text
        if dtype.startswith(".v"):  # vector registers: .reg .v4 .f32
            dtype = self.next().text
        while True:
            name = self.next()
            if name.kind != "name":
                raise self.error(f"expected a register name, found {name.text!r}", name)
            if self.accept("<"):
                count = self.next()
                n = self.integer(count)
                if not 0 <= n <= MAX_REGISTER_VECTOR:
                    raise self.error(f"{name.text}<{n}> declares {n:,} registers; PTX kernels use at most a few "
                                     f"thousand (limit {MAX_REGISTER_VECTOR:,})", count)
                self.expect(">")
                for k in range(n):
                    fn.registers.setdefault(self.declare(f"{name.text}{k}", fn), dtype)
            else:
                fn.registers.setdefault(self.declare(name.text, fn), dtype)
            if not self.accept(","):
                break
        self.expect(";")

    def instruction(self) -> Instruction:
        first = self.peek()
        guard, neg = None, False
        if self.accept("@"):
            neg = self.accept("!")
            guard = self.scoped(self.next().text)
        op = self.next()
        if op.kind != "name" or op.text.startswith(("%", ".")):
            raise self.error(f"expected an instruction, found {op.text!r}", op)
        operands: list[Operand] = []
        if self.peek().text != ";":
            while True:
                operands.append(self.operand())
                if not self.accept(","):
                    break
        t = self.next()
        if t.text != ";":
            raise self.error(f"expected ';' to end the {op.text} instruction of line {first.line}, found {t.text!r}", t)
        return Instruction(op.text, tuple(operands), guard, neg, first.line, first.col)

    def operand(self) -> Operand:
        if self.peek().text == "(":  # call argument lists
            self.next()
            items: list[Operand] = []
            while not self.accept(")"):
                items.append(self.operand())
                self.accept(",")
            return Operand("list", tuple(items))
        a = self.simple_operand()
        if self.peek().text == "|":
            self.next()
            return Operand("pair", (a, self.simple_operand()))
        return a

    def simple_operand(self) -> Operand:
        t = self.next()
        if t.text == "[":
            return self.address()
        if t.text == "{":
            items = []
            while not self.accept("}"):
                items.append(self.simple_operand())
                self.accept(",")
            return Operand("vec", tuple(items))  # also Triton's braced single operand: { %r7 }
        if t.text in ("!", "-"):
            inner = self.simple_operand()
            if inner.kind == "imm":
                return Operand("imm", -int(inner.value))  # type: ignore[arg-type]
            return Operand(inner.kind, inner.value, inner.offset, neg=True)
        if t.kind == "number":
            return Operand("imm", self.integer(t))
        if t.kind == "float":
            return Operand("float", t.text)
        if t.kind == "name":
            if t.text == "_":
                return Operand("sink")
            name = self.scoped(t.text)
            if name.startswith("%"):
                return Operand("reg", name)
            return Operand("symbol", name)
        raise self.error(f"unexpected operand {t.text!r}" if t.text else "unexpected end of file in an operand", t)

    def address(self) -> Operand:
        base: str | None = None
        offset = 0
        t = self.next()
        if t.kind == "name":
            base = self.scoped(t.text)
        elif t.kind == "number":
            offset = self.integer(t)
        else:
            raise self.error(f"unexpected {t.text!r} in an address", t)
        while self.peek().text in ("+", "-"):
            sign = -1 if self.next().text == "-" else 1
            if self.peek().text == "-":  # "[%rd1+-16]", as NVRTC prints negative offsets
                self.next()
                sign = -sign
            offset += sign * self.integer(self.next())
        self.expect("]")
        return Operand("addr", base, offset)


_PARAM_SYMBOL = re.compile(r"\w+_param_\d+$")
_IDENT = re.compile(r"[A-Za-z_]\w*$")


def _dwarf_param_names(tokens: list[Token]) -> dict[str, str]:
    """PTX parameter -> source name from nvcc ``-G`` debug info: each formal parameter's DWARF entry holds
    its location (``.b64 <kernel>_param_N``) and, a few bytes later, its name as a NUL-terminated string."""
    names: dict[str, str] = {}
    for k, t in enumerate(tokens):
        if t.text != ".b64" or k + 1 >= len(tokens) or not _PARAM_SYMBOL.match(tokens[k + 1].text):
            continue
        chars: list[str] = []
        for u in tokens[k + 2:k + 64]:
            if u.text in (".b32", ".b64"):
                break
            if not u.text.isdigit():
                continue  # .b8 and commas
            b = int(u.text)
            if b == 0 and chars:
                break
            if 32 < b < 127 and (chars or chr(b).isalpha() or chr(b) == "_"):
                chars.append(chr(b))
            elif chars:  # a non-printable byte inside a name: not a name
                chars = []
        name = "".join(chars)
        if _IDENT.match(name):
            names[tokens[k + 1].text] = name
    return names


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (restored after). Parsing and counting allocate hundreds
    of thousands of small objects (tokens, operands, instructions) and create no garbage cycles; each allocation burst
    triggers full collections that scan every live object, which cost two thirds of parsing resnet18's PTX."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def renamed(inst: Instruction, rename: dict[str, str]) -> Instruction:
    """``inst`` with the registers, labels and variables ``rename`` maps renamed (an inlined callee's, per call site;
    a brace block's labels)."""
    if not rename:
        return inst

    def op(o: Operand) -> Operand:
        if o.kind in ("reg", "symbol", "addr") and isinstance(o.value, str) and o.value in rename:
            return replace(o, value=rename[o.value])
        if o.kind in ("vec", "pair", "list"):
            return replace(o, value=tuple(op(x) for x in o.value))  # type: ignore[union-attr]
        return o
    return replace(inst, operands=tuple(op(o) for o in inst.operands),
                   guard=rename.get(inst.guard, inst.guard) if inst.guard else None)


def parse(text: str, file: str = "<ptx>") -> Module:
    """Parse PTX source text into a :class:`Module`."""
    with paused_gc():
        return _Parser(text, file).module()


def parse_file(path: str | Path) -> Module:
    path = Path(path)
    return parse(path.read_text(), str(path))


def format_module(mod: Module) -> str:
    """PTX text for ``mod``: comments, debug sections and ``.loc`` are dropped, everything else kept."""
    out = [f".version {mod.version}", f".target {mod.target}", f".address_size {mod.address_size}", ""]
    for v in mod.variables:
        out.append(_format_var(v))
    for fn in mod.functions:
        params = ",\n".join(f"\t{_format_param(p)}" for p in fn.params)
        returns = f"({', '.join(_format_param(p) for p in fn.returns)}) " if fn.returns else ""
        out.append(f"{fn.linkage + ' ' if fn.linkage else ''}.{fn.kind} {returns}{fn.name}(\n{params}\n)")
        for d, vals in fn.directives.items():
            out.append(f"{d} {', '.join(map(str, vals))}")
        if not fn.body:
            out.append(";")
            continue
        out.append("{")
        for name, dtype in fn.registers.items():
            out.append(f"\t.reg {dtype} {name};")
        for v in fn.variables:
            out.append("\t" + _format_var(v))
        for p in fn.call_params.values():
            out.append(f"\t{_format_param(p)};")
        for s in fn.body:
            out.append(f"{s}:" if isinstance(s, str) else f"\t{s}")
        out.append("}")
    return "\n".join(out) + "\n"


def _format_param(p: Param) -> str:
    return f".param {' '.join(p.attrs + (p.dtype,))} {p.name}{f'[{p.count}]' if p.count != 1 else ''}"


def _format_var(v: Variable) -> str:
    align = f" .align {v.align}" if v.align else ""
    size = f"[{v.count}]" if v.count != 1 else ""
    if v.count == 0:
        size = "[]"
    init = "" if v.init is None else f" = {{{', '.join(v.init)}}}" if v.count != 1 else f" = {v.init[0]}"
    return f"{'.extern ' if v.extern else ''}.{v.space}{align} {v.dtype} {v.name}{size}{init};"
