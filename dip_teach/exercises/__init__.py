"""Exercises with checkers, stepped hints and solutions, in the style of Kaggle's learntools.

A notebook imports the questions of its module and calls four methods::

    >>> from dip_teach.exercises import nb01
    >>> q = nb01.forward_operator
    >>> q.check(my_answer)      # a verdict; when wrong: which way, how far, the likely slip  # doctest: +SKIP
    >>> q.hint()                # a nudge  # doctest: +SKIP
    >>> q.hint(2)               # a stronger hint, nearly the answer  # doctest: +SKIP
    >>> q.solution()            # the worked answer  # doctest: +SKIP

``q.is_correct(answer)`` returns True or False silently (for scripts and tests).

How to write an exercise
------------------------
One module per notebook, ``dip_teach/exercises/nbXX.py``; the tests find every
:class:`Question` in every ``nbXX`` module, so a new question is tested the moment it
exists. Follow these rules; ``tests/test_exercises.py`` enforces the starred ones.

1. **A checker is a plain function of the answer.** It returns nothing when the answer
   is right and raises :class:`Incorrect` with the reason when it is wrong. Anything
   else the student's code raises is reported as a bug in the answer, not a crash.
2. **Never reveal the expected value (*).** Say which way and roughly how far off, and
   name the typical slip. :func:`close` does all three for numbers; give it the slips
   your question invites as ``slips={message: value_that_slip_gives}`` (it also spots
   the generic ones: a flipped sign, a factor 255, a square or square root, a factor
   2, a percentage). :func:`check_function` does it for code, on several inputs;
   :func:`function_slip` names a slip you wrote as a wrong function, and
   :func:`require_function` catches a result passed where the function belongs.
   Test the specific slips *before* any generic test, or they never fire.
3. **Hints in steps (*).** ``hint=["a nudge", "nearly the answer"]``: ``q.hint()``
   prints the first, ``q.hint(2)`` the second. A :class:`Choice` with one hint gets a
   second one for free (it rules out a wrong option, with the reason).
4. **One right and at least two typical wrong answers (*).** ``right=`` is the answer
   (or :func:`example` building it, when it is a function or expensive); ``wrong=`` is
   a list of :func:`mistake` entries, each the wrong answer a student really gives and
   a few words the verdict must contain, e.g. ``mistake(0.04, says="0-255")``. The
   tests check that the right answer passes, that each mistake fails with its words
   in the verdict, and that no verdict contains the expected value.
   A :class:`Choice` tests every wrong option against its ``why`` (give one for each).
5. **Notebook cells.** The answer cell is a code cell tagged ``solution`` that ends with
   ``q.check(name)``: the answer in a variable (``answer = ...``) or a function
   (``def restore(net, y): ...``), never a literal inside ``check(...)``. Put the
   prompt and the options in markdown or a ``print(q)`` cell *outside* the solution
   cell. When only part of a cell is the answer, mark it with ``### BEGIN SOLUTION`` /
   ``### END SOLUTION``. ``make student`` (``scripts/make_student.py``) then writes a
   copy where every answer is gone: a function keeps its signature and docstring and
   raises ``NotImplementedError``, a variable becomes ``None``, and the ``check`` line
   stays, so the stub runs and the checker explains what is missing. A markdown cell
   tagged ``teacher`` holds notes for the instructor copy only (``make instructor``).
6. **Predict, then run.** Inside a section, ask before the code that settles it: a
   :class:`Choice` (or a number) checked in a ``solution`` cell, then the code, then a
   markdown cell with the answer inside ``<details><summary>Answer</summary> ...
   </details>``. Each notebook also has at least one exercise that writes code of the
   lesson (a prior's energy, a restore loop, a stopping rule), checked with
   :func:`check_function`.

A minimal numeric question::

    def _check_sigma(answer):
        close(answer, 0.04 * 255, rtol=0.01, what="sigma",
              slips={"that is sigma on the [0, 1] scale; the kit wants the 0-255 scale": 0.04})

    sigma_scale = Question(
        "sigma_scale", "Which sigma (0-255 scale) is a standard deviation of 0.04 on [0, 1]?",
        checker=_check_sigma,
        hint=["The kit measures sigma on the 0-255 scale of 8-bit images.",
              "Multiply the [0, 1] value by the largest 8-bit value."],
        solution="answer = 0.04 * 255", right=10.2,
        wrong=[mistake(0.04, says="0-255"), mistake(0.04 / 255, says="factor 255")],
    )
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

__all__ = ["Incorrect", "Question", "Choice", "Mistake", "example", "mistake", "questions_in", "close",
           "describe_miss", "check_function", "require_function", "function_slip", "flat_weights"]


class Incorrect(Exception):
    """Raised by a checker: the answer is wrong, and the message says why."""


class _Example:
    """A lazily built example answer (see :func:`example`)."""

    def __init__(self, make: Callable[[], Any]):
        self.make = make


def example(make: Callable[[], Any]) -> _Example:
    """Mark a zero-argument callable that *builds* an example answer when the test asks.

    Use it when the answer is expensive to make, or when the answer is itself a
    function (a plain function would be taken as the answer).
    """
    return _Example(make)


def _resolve(value: Any) -> Any:
    return value.make() if isinstance(value, _Example) else value


@dataclass
class Mistake:
    """A typical wrong answer and words its verdict must contain (see :func:`mistake`)."""

    value: Any
    says: str = ""

    def answer(self) -> Any:
        return _resolve(self.value)


def mistake(value: Any, says: str = "") -> Mistake:
    """A typical wrong answer for the tests: ``value`` (or an :func:`example`) and a phrase
    (case-insensitive) that the checker's verdict must contain, so the test proves the
    message names the slip."""
    return Mistake(value, says)


_OK = "\u2705 Correct"
_WRONG = "\u274c Not yet"


class Question:
    """One exercise: ``check(answer)``, ``hint()``, ``hint(2)``, ``solution()``.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"tv_energy"``.
    prompt : str
        What the student is asked, shown by ``print(q)``.
    checker : callable
        ``checker(answer)`` returns nothing if right, raises :class:`Incorrect` if wrong.
    hint : str or sequence of str
        Hints from a nudge to nearly the answer; ``q.hint(k)`` prints the k-th.
    solution : str
        The answer, usually as code.
    right : object
        The right answer (or an :func:`example` building it); used by the tests only.
    wrong : object or list of :class:`Mistake`
        Typical wrong answers (see :func:`mistake`); a bare value counts as one
        mistake with no required words. Used by the tests only.
    explanation : str
        Printed after a correct answer: the "why", or the answer of a prediction.
    """

    def __init__(self, name: str, prompt: str, checker: Callable[[Any], None],
                 hint: str | Sequence[str] = "", solution: str = "", right: Any = None, wrong: Any = None,
                 explanation: str = ""):
        if not callable(checker):
            raise TypeError(f"checker of question {name!r} must be a function, got {type(checker).__name__}")
        self.name, self.prompt, self.checker = name, prompt, checker
        self.hints: list[str] = [hint] if isinstance(hint, str) else list(hint)
        self.hints = [h for h in self.hints if h]
        self.solution_text = solution
        self.right, self.explanation = right, explanation
        if wrong is None:
            self.mistakes: list[Mistake] = []
        elif isinstance(wrong, (list, tuple)):
            self.mistakes = [w if isinstance(w, Mistake) else Mistake(w) for w in wrong]
        else:
            self.mistakes = [wrong if isinstance(wrong, Mistake) else Mistake(wrong)]
        self.attempts = 0
        self.solved = False

    @property
    def hint_text(self) -> str:
        """The first hint (kept for older code)."""
        return self.hints[0] if self.hints else ""

    @property
    def wrong(self) -> Any:
        """The first typical wrong answer (kept for older code)."""
        return self.mistakes[0].value if self.mistakes else None

    # ------------------------------------------------------------------ student API
    def check(self, answer: Any = ...) -> None:
        """Check an answer and print a verdict, with the reason when it is wrong.

        Returns nothing (so a notebook cell shows only the verdict); the outcome is
        kept in ``q.solved``. Use :meth:`is_correct` for a quiet True/False.
        """
        self.attempts += 1
        ok, message = self._verdict(answer)
        self.solved = ok
        if ok:
            print(f"{_OK}: {self.name}." + (f" {self.explanation}" if self.explanation else ""))
        else:
            tip = " Stuck? Call .hint(), then .hint(2); .solution() shows an answer." if self.attempts >= 2 \
                else " Try again, or call .hint()."
            end = "" if message.endswith((".", "?", "!")) else "."
            print(f"{_WRONG}: {message}{end}{tip}")

    def is_correct(self, answer: Any) -> bool:
        """True if the answer is right; prints nothing (for tests and scripts)."""
        return self._verdict(answer)[0]

    def verdict(self, answer: Any) -> str:
        """The message :meth:`check` would print after "Not yet" ('' when right); prints nothing."""
        return self._verdict(answer)[1]

    def grade(self, answer: Any) -> None:
        """Pass silently when the answer is right, raise ``AssertionError`` with the verdict otherwise.

        For an autograder's test cell (nbgrader counts a cell that raises as failed):
        ``check`` only prints, so a wrong answer would still earn the points.
        """
        ok, message = self._verdict(answer)
        if not ok:
            raise AssertionError(f"{self.name}: {message}")

    def hint(self, level: int = 1) -> None:
        """Print hint number ``level`` (1: a nudge; higher: closer to the answer)."""
        if not self.hints:
            print("Hint: no hint for this one; re-read the section above.")
            return
        k = min(max(int(level), 1), len(self.hints))
        more = f" More: .hint({k + 1})." if k < len(self.hints) else " No more hints: .solution() shows an answer."
        label = "Hint" if len(self.hints) == 1 else f"Hint {k} of {len(self.hints)}"
        print(f"{label}: {self.hints[k - 1]}{more}")

    def solution(self) -> None:
        """Print the solution."""
        print("Solution:\n" + textwrap.indent(textwrap.dedent(self.solution_text).strip("\n"), "    "))

    def __repr__(self) -> str:
        return f"Question({self.name!r})"

    def __str__(self) -> str:
        return f"{self.name}: {self.prompt}"

    # ------------------------------------------------------------------ internals
    def _verdict(self, answer: Any) -> tuple[bool, str]:
        if answer is ...:
            return False, "no answer given: call q.check(your_answer)"
        if answer is None:
            return False, ("not answered yet: the answer is None. Replace the `None` placeholder with your "
                           "answer, or, if you wrote a function, check that it `return`s its result")
        try:
            self.checker(answer)
        except Incorrect as err:
            return False, str(err) or "that is not right"
        except NotImplementedError as err:
            return False, f"not answered yet: {err or 'write the body of the function where it says YOUR CODE HERE'}"
        except Exception as err:  # the student's code failed inside the checker
            return False, f"checking your answer raised {type(err).__name__}: {err}"
        return True, ""

    def example_answers(self) -> tuple[Any, Any]:
        """The right answer and the first wrong one, built if they are lazy (for tests)."""
        return _resolve(self.right), (self.mistakes[0].answer() if self.mistakes else None)


class Choice(Question):
    """A multiple-choice question: the answer is a letter (``"b"``) or the option's text.

    Parameters
    ----------
    options : dict
        Letter -> option text, e.g. ``{"a": "...", "b": "..."}``.
    correct : str
        The correct letter.
    why : dict, optional
        Letter -> why that option is wrong (shown when a student picks it). Give one
        for every wrong option: the tests require it.
    hint : str or sequence of str
        With a single hint, a second one is made that rules out one wrong option.
    """

    def __init__(self, name: str, prompt: str, options: dict[str, str], correct: str,
                 why: dict[str, str] | None = None, hint: str | Sequence[str] = "", explanation: str = ""):
        if correct not in options:
            raise ValueError(f"correct option {correct!r} is not one of {sorted(options)}")
        self.options, self.correct, self.why = dict(options), correct, dict(why or {})
        hints = [hint] if isinstance(hint, str) else list(hint)
        hints = [h for h in hints if h]
        wrong_keys = [k for k in options if k != correct]
        if len(hints) < 2 and self.why:
            k = next((k for k in wrong_keys if k in self.why), None)
            if k is not None:
                hints.append(f"It is not ({k}): {self.why[k]}.")
        mistakes = [Mistake(k, self.why.get(k, "")) for k in wrong_keys]
        body = prompt + "\n" + "\n".join(f"  ({k}) {v}" for k, v in options.items())
        super().__init__(name, body, self._check_choice, hint=hints,
                         solution=f"answer = {correct!r}  # {options[correct]}\n{explanation}",
                         right=correct, wrong=mistakes, explanation=explanation)

    def _check_choice(self, answer: Any) -> None:
        key = str(answer).strip().lower().strip("()")
        by_text = {v.strip().lower(): k for k, v in self.options.items()}
        key = by_text.get(key, key)
        if key not in self.options:
            raise Incorrect(f"answer with one of the letters {', '.join(repr(k) for k in self.options)}, "
                            f"not {answer!r}")
        if key != self.correct:
            raise Incorrect(f"({key}) is not it: {self.why.get(key, 're-read the section and think again')}")


# ------------------------------------------------------------------ checker helpers
def _bucket(ratio: float) -> str:
    """Words for how far off a relative error is, coarse on purpose (no exact target)."""
    if ratio < 0.1:
        return "by a few percent"
    if ratio < 0.3:
        return "by roughly 10 to 30%"
    if ratio < 1.0:
        return "by roughly 30 to 100%"
    if ratio < 9.0:
        return "by a factor of roughly 2 to 10"
    return "by more than a factor of 10"


def _abs_bucket(diff: float, unit: str) -> str:
    for edge, words in ((1, f"by less than 1 {unit}"), (3, f"by 1 to 3 {unit}"), (10, f"by 3 to 10 {unit}")):
        if diff < edge:
            return words
    return f"by more than 10 {unit}"


def describe_miss(value: float, target: float, what: str = "your value", unit: str = "") -> str:
    """Say which way and roughly how far ``value`` misses ``target``, without stating ``target``.

    With a ``unit`` (e.g. ``"dB"``) the distance is in coarse steps of that unit,
    otherwise in coarse relative steps.
    """
    if target != 0 and value != 0 and (value > 0) != (target > 0):
        return f"{what} has the wrong sign"
    way = "too large" if value > target else "too small"
    if unit:
        return f"{what} is {way} {_abs_bucket(abs(value - target), unit)}"
    if target == 0:
        return f"{what} is {way}: it should be zero"
    if value == 0:
        return f"{what} is zero, which is {way}"
    hi, lo = max(abs(value), abs(target)), min(abs(value), abs(target))
    ratio = abs(value - target) / abs(target) if hi / lo < 2 else hi / lo - 1
    return f"{what} is {way} {_bucket(ratio)}"


def _generic_slips(target: float) -> dict[str, float]:
    """The slips any numeric answer invites, as message -> the value the slip gives."""
    slips = {"the sign is flipped": -target,
             "off by a factor 255: the [0, 1] and the 0-255 scales got mixed": target * 255,
             "off by a factor 255: the 0-255 and the [0, 1] scales got mixed": target / 255,
             "it looks squared: a variance where a standard deviation belongs, or a missing square root":
                 target ** 2,
             "it looks like an extra square root: a standard deviation where a variance belongs": math.sqrt(abs(target)),
             "off by a factor 2: check a 1/2, or 10 log10 against 20 log10": 2 * target,
             "off by a factor 2: check a 1/2, or 20 log10 against 10 log10": target / 2,
             "it looks like a percentage; give a fraction": 100 * target}
    return slips


def close(value: Any, target: float, rtol: float = 0.05, atol: float = 0.0, what: str = "your value",
          slips: dict[str, float] | None = None, unit: str = "", generic_slips: bool = True) -> float:
    """Raise :class:`Incorrect` unless ``value`` is a number within tolerance of ``target``.

    The message never contains ``target``. It names a slip when ``value`` matches one
    (the question's own ``slips`` first, then the generic ones: sign, factor 255,
    square, square root, factor 2, percentage), and otherwise says which way and
    roughly how far off the value is (:func:`describe_miss`).

    Parameters
    ----------
    value : object
        The student's answer.
    target : float
        The right value; never printed.
    rtol, atol : float
        Accepted when ``|value - target| <= atol + rtol * |target|``.
    what : str
        How to call the value in the message ("your PSNR").
    slips : dict, optional
        Message -> the value that slip produces, checked first (same tolerance).
    unit : str
        If given, distances are reported in coarse steps of this unit ("dB").
    generic_slips : bool
        Whether to look for the generic slips too.

    Returns
    -------
    float
        The value as a float, when accepted.
    """
    if isinstance(value, bool):
        raise Incorrect(f"{what} should be a number, not True/False")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise Incorrect(f"{what} should be a number, got {type(value).__name__}") from None
    if not math.isfinite(v):
        raise Incorrect(f"{what} is {v}: a division by zero or a log of zero somewhere?")
    tol = atol + rtol * abs(target)
    if abs(v - target) <= tol:
        return v
    candidates = dict(slips or {})
    if generic_slips:
        for msg, slip in _generic_slips(target).items():
            # a generic slip counts only where it is far from the target itself (not for target 1, 0, ...)
            if abs(slip - target) > 4 * tol + 1e-12 and msg not in candidates:
                candidates[msg] = slip
    for msg, slip in candidates.items():
        if abs(v - slip) <= atol + rtol * abs(slip):
            raise Incorrect(f"{what} is off: {msg}")
    raise Incorrect(describe_miss(v, target, what, unit))


def check_function(answer: Any, reference: Callable, inputs: list[tuple], rtol: float = 1e-4,
                   atol: float = 1e-6, name: str = "your function") -> None:
    """Compare a student's function with a reference on several inputs (tensors or numbers).

    Raises :class:`Incorrect` naming the first input where they differ: a wrong shape
    (shown, since the shape is the prompt's), or how far the values are off, never the
    reference's values.
    """
    require_function(answer)
    for i, args in enumerate(inputs):
        expected = reference(*args)
        got = answer(*args)
        if got is None:
            raise Incorrect(f"{name} returned None: add a `return`")
        got_t = torch.as_tensor(got, dtype=torch.float64) if not isinstance(got, torch.Tensor) else got.double()
        exp_t = torch.as_tensor(expected, dtype=torch.float64) if not isinstance(expected, torch.Tensor) \
            else expected.double()
        if got_t.shape != exp_t.shape:
            raise Incorrect(f"on test input {i + 1}, {name} returned shape {tuple(got_t.shape)}, "
                            f"expected {tuple(exp_t.shape)}")
        got_t, exp_t = got_t.detach(), exp_t.detach()
        if not torch.allclose(got_t, exp_t, rtol=rtol, atol=atol):
            if exp_t.numel() == 1:
                g, e = got_t.item(), exp_t.item()
                slip = next((m for m, s in _generic_slips(e).items()
                             if abs(s - e) > 1e-9 and abs(g - s) <= atol + rtol * abs(s) + 1e-9), "")
                raise Incorrect(f"on test input {i + 1}, " + (f"{name} is off: {slip}" if slip else
                                                                describe_miss(g, e, f"{name}'s result")))
            err = (got_t - exp_t).abs().max().item()
            raise Incorrect(f"on test input {i + 1}, {name} differs from the reference by up to {err:.3g}")


def require_function(answer: Any, name: str = "") -> None:
    """Raise :class:`Incorrect` unless ``answer`` is a function (a student often passes its result).

    ``name`` is the function the prompt asks for; the message names it when given.
    """
    if callable(answer):
        return
    if name:
        raise Incorrect(f"pass the function itself, {name}, not a {type(answer).__name__}")
    raise Incorrect(f"pass the function itself (without calling it), got a {type(answer).__name__}")


def function_slip(got: Any, args: tuple, slips: Sequence[tuple[Callable, str]], rtol: float = 1e-6) -> None:
    """Raise :class:`Incorrect` with a slip's message when ``got`` equals that slip's output on ``args``.

    ``slips`` lists ``(wrong_function, message)`` pairs: each wrong function is the
    code a typical slip gives, run on the same ``args`` as the student's. Call it
    before :func:`check_function`, whose message only says how far off the output is.
    """
    got = np.asarray(got, dtype=float)
    for slip, message in slips:
        if np.allclose(got, slip(*args), rtol=rtol):
            raise Incorrect(message)


def flat_weights(net) -> Any:
    """All parameters of ``net`` as one detached 1-D tensor (to compare weights before and after)."""
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def questions_in(module) -> list[Question]:
    """Every :class:`Question` defined at the top level of a module, in definition order."""
    return [v for v in vars(module).values() if isinstance(v, Question)]
