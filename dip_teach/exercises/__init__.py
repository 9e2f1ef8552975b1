"""Exercises with checkers, hints and solutions, in the style of Kaggle's learntools.

A notebook imports the questions of its module and calls three methods::

    >>> from dip_teach.exercises import nb01
    >>> q = nb01.forward_operator
    >>> q.check(my_answer)      # prints a verdict; says why when the answer is wrong  # doctest: +SKIP
    >>> q.is_correct(my_answer) # True or False, silently  # doctest: +SKIP
    >>> q.hint()                # a nudge  # doctest: +SKIP
    >>> q.solution()            # the worked answer  # doctest: +SKIP

Writing a question (one module per notebook, ``nbXX.py``)
----------------------------------------------------------
A :class:`Question` bundles a prompt, a *checker*, a hint, a solution, and one right
and one wrong example answer. A checker is a plain function of the student's answer:
it returns nothing when the answer is right and raises :class:`Incorrect` with the
reason when it is wrong. Any other exception raised while checking (for instance by
the student's own function) is reported as a bug in the answer, not a crash::

    def _check_sigma(answer):
        if not isinstance(answer, (int, float)):
            raise Incorrect(f"give a number, not {type(answer).__name__}")
        if abs(answer - 25) > 0.5:
            raise Incorrect(f"{answer} is not the noise level used above")

    noise_level = Question(
        "noise_level", "Which sigma (0-255 scale) made the noisy image?",
        checker=_check_sigma, hint="Look at the Denoising(...) call.",
        solution="answer = 25", right=25, wrong=10,
    )

``right`` and ``wrong`` may be zero-argument callables (wrap them with
:func:`example`) when the answer is itself a function or needs computing; the tests
(``tests/test_exercises.py``) find every ``Question`` in every ``nbXX`` module and
check that ``right`` passes and ``wrong`` fails, so every checker is tested.
"""
from __future__ import annotations

import textwrap
from typing import Any, Callable

__all__ = ["Incorrect", "Question", "Choice", "example", "questions_in", "close", "check_function"]


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


_OK = "\u2705 Correct"
_WRONG = "\u274c Not yet"


class Question:
    """One exercise: ``check(answer)``, ``hint()``, ``solution()``.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"tv_energy"``.
    prompt : str
        What the student is asked, shown by ``print(q)``.
    checker : callable
        ``checker(answer)`` returns nothing if right, raises :class:`Incorrect` if wrong.
    hint : str
        A nudge that does not give the answer away.
    solution : str
        The answer, usually as code.
    right, wrong : object
        One right and one wrong answer (or :func:`example` wrappers building them);
        used by the tests, never shown to the student.
    """

    def __init__(self, name: str, prompt: str, checker: Callable[[Any], None], hint: str = "",
                 solution: str = "", right: Any = None, wrong: Any = None, explanation: str = ""):
        if not callable(checker):
            raise TypeError(f"checker of question {name!r} must be a function, got {type(checker).__name__}")
        self.name, self.prompt, self.checker = name, prompt, checker
        self.hint_text, self.solution_text = hint, solution
        self.right, self.wrong, self.explanation = right, wrong, explanation
        self.attempts = 0
        self.solved = False

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
            tip = " Stuck? Call .hint(), or .solution() to see an answer." if self.attempts >= 2 else \
                  " Try again, or call .hint()."
            end = "" if message.endswith((".", "?", "!")) else "."
            print(f"{_WRONG}: {message}{end}{tip}")

    def is_correct(self, answer: Any) -> bool:
        """True if the answer is right; prints nothing (for tests and scripts)."""
        return self._verdict(answer)[0]

    def hint(self) -> None:
        """Print the hint."""
        print("Hint: " + (self.hint_text or "no hint for this one; re-read the section above."))

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
            return False, ("the answer is None: did you forget to `return` a value, or to replace "
                           "the `None` placeholder?")
        try:
            self.checker(answer)
        except Incorrect as err:
            return False, str(err) or "that is not right"
        except Exception as err:  # the student's code failed inside the checker
            return False, f"checking your answer raised {type(err).__name__}: {err}"
        return True, ""

    def example_answers(self) -> tuple[Any, Any]:
        """The (right, wrong) example answers, built if they are lazy (for tests)."""
        return _resolve(self.right), _resolve(self.wrong)


class Choice(Question):
    """A multiple-choice question: the answer is a letter (``"b"``) or the option's text.

    Parameters
    ----------
    options : dict
        Letter -> option text, e.g. ``{"a": "...", "b": "..."}``.
    correct : str
        The correct letter.
    why : dict, optional
        Letter -> why that option is wrong (shown when a student picks it).
    """

    def __init__(self, name: str, prompt: str, options: dict[str, str], correct: str,
                 why: dict[str, str] | None = None, hint: str = "", explanation: str = ""):
        if correct not in options:
            raise ValueError(f"correct option {correct!r} is not one of {sorted(options)}")
        self.options, self.correct, self.why = dict(options), correct, dict(why or {})
        wrong = next(k for k in options if k != correct)
        body = prompt + "\n" + "\n".join(f"  ({k}) {v}" for k, v in options.items())
        super().__init__(name, body, self._check_choice, hint=hint,
                         solution=f"answer = {correct!r}  # {options[correct]}\n{explanation}",
                         right=correct, wrong=wrong, explanation=explanation)

    def _check_choice(self, answer: Any) -> None:
        key = str(answer).strip().lower().strip("()")
        by_text = {v.strip().lower(): k for k, v in self.options.items()}
        key = by_text.get(key, key)
        if key not in self.options:
            raise Incorrect(f"answer with one of the letters {', '.join(repr(k) for k in self.options)}, "
                            f"not {answer!r}")
        if key != self.correct:
            raise Incorrect(f"({key}) is not it: {self.why.get(key, 'think about what the data term can see')}")


# ------------------------------------------------------------------ checker helpers
def close(value: Any, target: float, rtol: float = 0.05, atol: float = 0.0, what: str = "your value") -> float:
    """Raise :class:`Incorrect` unless ``value`` is a number within tolerance of ``target``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise Incorrect(f"{what} should be a number, got {type(value).__name__}") from None
    if abs(v - target) > atol + rtol * abs(target):
        raise Incorrect(f"{what} is {v:.4g}, expected about {target:.4g}")
    return v


def check_function(answer: Any, reference: Callable, inputs: list[tuple], rtol: float = 1e-4,
                   atol: float = 1e-6, name: str = "your function") -> None:
    """Compare a student's function with a reference on several inputs (tensors or numbers).

    Raises :class:`Incorrect` naming the first input where they differ, with the
    shapes or values, so the student can see what went wrong.
    """
    import torch

    if not callable(answer):
        raise Incorrect(f"pass the function itself (without calling it), got a {type(answer).__name__}")
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
        if not torch.allclose(got_t.detach(), exp_t.detach(), rtol=rtol, atol=atol):
            err = (got_t.detach() - exp_t.detach()).abs().max().item()
            hint = ""
            if exp_t.numel() == 1 and got_t.numel() == 1:
                hint = f": got {got_t.item():.6g}, expected {exp_t.item():.6g}"
            raise Incorrect(f"on test input {i + 1}, {name} differs from the reference by up to {err:.3g}{hint}")


def questions_in(module) -> list[Question]:
    """Every :class:`Question` defined at the top level of a module, in definition order."""
    return [v for v in vars(module).values() if isinstance(v, Question)]
