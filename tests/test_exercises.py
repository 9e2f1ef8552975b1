"""The exercise pattern: every checker accepts the right answer, rejects >= 2 typical wrong ones
with a message that names the slip, and never prints the expected value."""
import importlib
import math
import pkgutil

import pytest

import dip_teach.exercises as ex
from dip_teach.exercises import Choice, Incorrect, Question, example, mistake


def _exercise_modules():
    """Every ``dip_teach.exercises.nbXX`` module, whoever wrote it."""
    names = sorted(m.name for m in pkgutil.iter_modules(ex.__path__) if m.name.startswith("nb"))
    return [importlib.import_module(f"dip_teach.exercises.{n}") for n in names]


ALL = [(m.__name__.rsplit(".", 1)[1], q) for m in _exercise_modules() for q in ex.questions_in(m)]
IDS = [f"{m}.{q.name}" for m, q in ALL]


def _spellings(value) -> list[str]:
    """Ways a number could be printed (3 or more significant digits: shorter ones are not a leak)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return []
    out = {f"{value:.3g}", f"{value:.4g}", f"{value:.2f}", f"{value:.3f}", repr(float(value))}
    return [s for s in out if len(s.strip("-0.")) >= 3]


def test_modules_are_discovered():
    names = {m for m, _ in ALL}
    assert {"nb00", "nb01", "nb02", "nb03"} <= names
    assert len(ALL) >= 10


@pytest.mark.parametrize("module,q", ALL, ids=IDS)
def test_right_passes(module, q, capsys):
    right, _ = q.example_answers()
    assert right is not None, f"{module}.{q.name} needs a right= example"
    q.check(right)
    out = capsys.readouterr().out
    assert q.solved and "Correct" in out, out


@pytest.mark.parametrize("module,q", ALL, ids=IDS)
def test_typical_mistakes_fail_with_a_helpful_message_that_hides_the_answer(module, q):
    assert len(q.mistakes) >= 2, f"{module}.{q.name}: give at least two typical wrong answers (mistake(...))"
    right = ex._resolve(q.right)
    for m in q.mistakes:
        answer = m.answer()
        message = q.verdict(answer)
        assert message, f"{module}.{q.name}: the wrong answer {answer!r} was accepted"
        assert len(message) > 20, message
        assert m.says, f"{module}.{q.name}: say which words the verdict for {answer!r} must contain"
        assert m.says.lower() in message.lower(), (m.says, message)
        for spelled in _spellings(right):
            assert spelled not in message, f"the verdict reveals the answer {spelled}: {message}"
        if isinstance(q, Choice):
            assert q.options[q.correct] not in message


@pytest.mark.parametrize("module,q", ALL, ids=IDS)
def test_an_unanswered_stub_is_explained(module, q):
    assert "not answered yet" in q.verdict(None)
    def stub(*args):
        raise NotImplementedError("write the body")
    assert not q.is_correct(stub)


@pytest.mark.parametrize("module,q", ALL, ids=IDS)
def test_hints_go_in_steps_and_solution_prints(module, q, capsys):
    assert len(q.hints) >= 2, f"{module}.{q.name}: give two hints, a nudge and nearly the answer"
    q.hint()
    first = capsys.readouterr().out
    q.hint(2)
    second = capsys.readouterr().out
    q.solution()
    sol = capsys.readouterr().out
    assert first.startswith("Hint 1 of") and ".hint(2)" in first
    assert second.startswith("Hint 2 of") and second != first
    assert sol.startswith("Solution:") and len(sol) > 20


def test_hint_levels_are_clamped_and_a_single_hint_still_works(capsys):
    q = Question("q", "p", lambda a: None, hint="only one")
    q.hint()
    assert capsys.readouterr().out.startswith("Hint: only one")
    q.hint(5)
    assert "only one" in capsys.readouterr().out and q.hint_text == "only one"
    q2 = Question("q", "p", lambda a: None, hint=["a", "b"])
    q2.hint(9)
    assert "Hint 2 of 2: b" in capsys.readouterr().out


def test_choice_makes_a_second_hint_that_rules_out_an_option(capsys):
    q = Choice("c", "pick", {"a": "red", "b": "blue", "c": "green"}, "b",
               why={"a": "not red", "c": "not green"}, hint="think of the sky")
    assert len(q.hints) == 2 and "(a)" in q.hints[1] and "not red" in q.hints[1]
    assert [m.value for m in q.mistakes] == ["a", "c"] and q.mistakes[0].says == "not red"


def test_empty_and_crashing_answers_are_explained(capsys):
    def checker(answer):
        if answer(2) != 4:
            raise Incorrect("double it")

    q = Question("double", "write f(x) = 2x", checker, right=example(lambda: lambda x: 2 * x),
                 wrong=example(lambda: lambda x: x))
    q.check()
    assert "no answer" in capsys.readouterr().out
    q.check(None)
    assert "None" in capsys.readouterr().out
    q.check(lambda x: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out and not q.solved
    q.check(lambda x: x)
    out = capsys.readouterr().out
    assert "double it" in out and "Stuck?" in out and ".hint(2)" in out and q.attempts == 4
    assert q.check(lambda x: 2 * x) is None and q.solved
    assert q.wrong is not None   # old single-answer form still accepted


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


@pytest.mark.parametrize("value,says", [
    (-0.4, "sign"), (0.4 * 255, "factor 255"), (0.4 / 255, "factor 255"), (0.16, "square"),
    (math.sqrt(0.4), "square root"), (0.8, "factor 2"), (40, "percentage"),
    (0.42, "too large by a few percent"), (0.3, "too small by roughly 10 to 30%"),
    (3.0, "too large by a factor of roughly 2 to 10"), ("abc", "number"), (True, "number"),
    (float("nan"), "division by zero"),
])
def test_close_names_the_slip_and_never_the_target(value, says):
    with pytest.raises(Incorrect) as err:
        ex.close(value, 0.4, rtol=0.02, what="x")
    message = str(err.value)
    assert says in message and "0.4 " not in message + " " and "0.40" not in message


def test_close_checks_the_question_slips_first_and_reports_units():
    with pytest.raises(Incorrect, match="your own slip"):
        ex.close(-20.0, 20.0, atol=0.1, slips={"your own slip": -20.0})
    with pytest.raises(Incorrect, match="too large by 3 to 10 dB"):
        ex.close(28.0, 20.17, atol=0.05, rtol=0, unit="dB", generic_slips=False)
    assert ex.close("20.2", 20.17, atol=0.05, rtol=0) == pytest.approx(20.2)
    # a "slip" equal to the right answer (target 1: 1**2 == 1) is never reported
    with pytest.raises(Incorrect, match="too large"):
        ex.close(1.5, 1.0, rtol=0.01)


def test_check_function_reports_shapes_and_how_far_never_the_value():
    import torch

    with pytest.raises(Incorrect, match="shape"):
        ex.check_function(lambda x: x[0], lambda x: x, [(torch.zeros(1, 2),)])
    with pytest.raises(Incorrect, match="differs"):
        ex.check_function(lambda x: x + 1, lambda x: x, [(torch.zeros(3),)])
    with pytest.raises(Incorrect, match="function itself"):
        ex.check_function(3.0, lambda x: x, [(torch.zeros(3),)])
    with pytest.raises(Incorrect) as err:
        ex.check_function(lambda x: x.sum() * 1.5, lambda x: x.sum(), [(torch.full((3,), 0.1234),)])
    assert "too large" in str(err.value) and "0.370" not in str(err.value)
    with pytest.raises(Incorrect, match="sign"):
        ex.check_function(lambda x: -x.sum(), lambda x: x.sum(), [(torch.full((3,), 0.1234),)])


def test_mistake_wraps_lazy_examples():
    m = mistake(example(lambda: 3), says="three")
    assert m.answer() == 3 and m.says == "three"
