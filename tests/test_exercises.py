"""The exercise pattern: every checker accepts one right and rejects one wrong answer."""
import importlib
import pkgutil

import pytest

import dip_teach.exercises as ex
from dip_teach.exercises import Choice, Incorrect, Question, example


def _exercise_modules():
    """Every ``dip_teach.exercises.nbXX`` module, whoever wrote it."""
    names = sorted(m.name for m in pkgutil.iter_modules(ex.__path__) if m.name.startswith("nb"))
    return [importlib.import_module(f"dip_teach.exercises.{n}") for n in names]


ALL = [(m.__name__.rsplit(".", 1)[1], q) for m in _exercise_modules() for q in ex.questions_in(m)]


def test_modules_are_discovered():
    names = {m for m, _ in ALL}
    assert {"nb01", "nb02"} <= names
    assert len(ALL) >= 6


@pytest.mark.parametrize("module,q", ALL, ids=[f"{m}.{q.name}" for m, q in ALL])
def test_right_passes_wrong_fails(module, q, capsys):
    right, wrong = q.example_answers()
    assert right is not None and wrong is not None, f"{module}.{q.name} needs right= and wrong= examples"
    assert q.is_correct(right) and not q.is_correct(wrong)
    q.check(right)
    assert q.solved and "Correct" in capsys.readouterr().out
    q.check(wrong)
    out = capsys.readouterr().out
    assert not q.solved
    assert "Not yet" in out and len(out) > 30        # a verdict with a reason


@pytest.mark.parametrize("module,q", ALL, ids=[f"{m}.{q.name}" for m, q in ALL])
def test_hint_and_solution_print_something(module, q, capsys):
    q.hint()
    q.solution()
    out = capsys.readouterr().out
    assert out.startswith("Hint: ") and "Solution:" in out and len(out) > 40


def test_empty_and_crashing_answers_are_explained(capsys):
    def checker(answer):
        if answer(2) != 4:
            raise Incorrect("double it")

    q = Question("double", "write f(x) = 2x", checker, right=example(lambda: lambda x: 2 * x),
                 wrong=example(lambda: lambda x: x))
    q.check()
    assert "no answer" in capsys.readouterr().out
    q.check(None)
    assert "return" in capsys.readouterr().out
    q.check(lambda x: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out and not q.solved
    q.check(lambda x: x)
    out = capsys.readouterr().out
    assert "double it" in out and "Stuck?" in out and q.attempts == 4
    assert q.check(lambda x: 2 * x) is None and q.solved


def test_choice_accepts_letters_and_text(capsys):
    q = Choice("c", "pick", {"a": "red", "b": "blue"}, "b", why={"a": "not red"})
    assert q.is_correct("b") and q.is_correct("(B)") and q.is_correct("blue")
    q.check("a")
    assert not q.solved and "not red" in capsys.readouterr().out
    q.check("z")
    assert "one of the letters" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not one of"):
        Choice("c", "pick", {"a": "red"}, "q")


def test_checker_must_be_a_function():
    with pytest.raises(TypeError, match="must be a function"):
        Question("x", "y", checker="not a function")


def test_check_function_reports_shapes_and_values():
    import torch

    with pytest.raises(Incorrect, match="shape"):
        ex.check_function(lambda x: x[0], lambda x: x, [(torch.zeros(1, 2),)])
    with pytest.raises(Incorrect, match="differs"):
        ex.check_function(lambda x: x + 1, lambda x: x, [(torch.zeros(3),)])
    with pytest.raises(Incorrect, match="function itself"):
        ex.check_function(3.0, lambda x: x, [(torch.zeros(3),)])
