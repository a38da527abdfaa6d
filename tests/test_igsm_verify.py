"""iGSM full-solution verifier: the paper's verbatim example, hand-made problems, single-point mutations,
retractions, unnecessary parameters, garbage that must never raise, and (when the generator is importable)
oracle solutions of generated problems."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.interfaces import Verdict
from harness_igsm.names import NAMES
from harness_igsm.parse import CHAINS, ProblemParseError, parse_problem, parse_solution
from harness_igsm.verify import verify_solution

# ------------------------------------------------------------------------------ the verbatim example (§1.5)
PROBLEM_SENTENCES = [
    "The number of each Riverview High's Film Studio equals 5 times as much as the sum of each Film Studio's "
    "Backpack and each Dance Studio's School Daypack",
    "The number of each Film Studio's School Daypack equals 12 more than the sum of each Film Studio's Messenger "
    "Backpack and each Central High's Film Studio",
    "The number of each Central High's Film Studio equals the sum of each Dance Studio's School Daypack and each "
    "Film Studio's Messenger Backpack",
    "The number of each Riverview High's Dance Studio equals the sum of each Film Studio's Backpack, each Film "
    "Studio's Messenger Backpack, each Film Studio's School Daypack and each Central High's Backpack",
    "The number of each Dance Studio's School Daypack equals 17",
    "The number of each Film Studio's Messenger Backpack equals 13",
]
QUESTION = "How many Backpack does Central High have?"
PROBLEM = ". ".join(PROBLEM_SENTENCES) + ". " + QUESTION
PROBLEM_QP = " " + QUESTION + " " + ". ".join(PROBLEM_SENTENCES) + "."
SENTS = [
    "Define Dance Studio's School Daypack as p; so p = 17",
    "Define Film Studio's Messenger Backpack as W; so W = 13",
    "Define Central High's Film Studio as B; so B = p + W = 17 + 13 = 7",
    "Define Film Studio's School Daypack as g; R = W + B = 13 + 7 = 20; so g = 12 + R = 12 + 20 = 9",
    "Define Film Studio's Backpack as w; so w = g + W = 9 + 13 = 22",
    "Define Central High's Backpack as c; so c = B * w = 7 * 22 = 16",
]
SOLUTION = ". ".join(SENTS) + ". Answer: 16."
RIVERVIEW_FILM = "Define Riverview High's Film Studio as z; Q = w + p = 22 + 17 = 16; so z = 5 * Q = 5 * 16 = 11"


def sol(sents: list[str], answer: str | None = "16") -> str:
    return ". ".join(sents) + "." + (f" Answer: {answer}." if answer is not None else "")


def test_verbatim_example_verifies():
    v = verify_solution(PROBLEM, SOLUTION)
    assert v.correct, v.reason
    assert v.details["true_answer"] == 16 and v.details["answer"] == 16
    assert v.details["n_back"] == 0 and v.details["n_unnecessary"] == 0 and v.details["n_sentences"] == 6
    assert v.details["first_error_sentence"] is None


def test_verbatim_example_qp_and_separate_answer():
    assert verify_solution(PROBLEM_QP, SOLUTION).correct
    pp = parse_problem(PROBLEM_QP)
    assert pp.order == "qp" and parse_problem(PROBLEM).order == "pq"
    assert verify_solution(PROBLEM, sol(SENTS, None), answer=16).correct
    assert verify_solution(PROBLEM, " " + sol(SENTS, None) + " ", answer="16").correct
    v = verify_solution(PROBLEM, SOLUTION, answer=15)
    assert not v.correct and "differs" in v.reason


def test_parse_problem_structure():
    pp = parse_problem(PROBLEM)
    assert pp.layers == [["Central High", "Riverview High"], ["Dance Studio", "Film Studio"],
                         ["Messenger Backpack", "School Daypack"]]
    assert pp.query == ("Central High", "Backpack") and pp.candidates == [(2, 0)]
    ev = pp.evaluate()
    assert ev.values[("Central High", "Backpack")] == 16
    assert ev.parents[("Central High", "Backpack")] == {("Central High", "Film Studio"), ("Film Studio", "Backpack")}
    assert ev.parents[("Film Studio", "Backpack")] == {("Film Studio", "Messenger Backpack"),
                                                       ("Film Studio", "School Daypack")}
    # Riverview High's two parameters are distractors: neither is an ancestor of the query.
    anc = ev.ancestors_or_self(pp.query)
    assert ("Riverview High", "Film Studio") not in anc and ("Riverview High", "Dance Studio") not in anc
    assert len(anc) == 6
    assert ev.values[("Riverview High", "Film Studio")] == 11  # 5 * (22 + 17) mod 23
    assert ev.values[("Riverview High", "Dance Studio")] == (22 + 13 + 9 + 16) % 23


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(
    ["Film Studio's School Daypack", "Central High's Classroom", "Central High's Backpack",
     "Riverview High's Dance Studio", "Nonexistent's Thing"])), max_size=6), st.booleans())
def test_back_sentences_are_dropped(inserts, qp):
    sents = list(SENTS)
    for pos, name in sorted(inserts, key=lambda t: -t[0]):
        sents.insert(pos, f"Define {name} as [BACK]")
    v = verify_solution(PROBLEM_QP if qp else PROBLEM, sol(sents))
    assert v.correct, v.reason
    assert v.details["n_back"] == len(inserts)
    # plain BACK (the official code's word) works too
    plain = sol([s.replace("[BACK]", "BACK") for s in sents])
    assert verify_solution(PROBLEM, plain).details["n_back"] == len(inserts)


def test_back_sentence_numbering_counts_retractions():
    sents = ["Define Film Studio's School Daypack as [BACK]"] + SENTS
    sents[3] = sents[3].replace("= 7", "= 8")  # Central High's Film Studio, now sentence 4
    v = verify_solution(PROBLEM, sol(sents))
    assert not v.correct and v.reason.startswith("sentence 4:") and v.details["first_error_sentence"] == 4


# ------------------------------------------------------------------------------ single-point mutations
NUMBER_POSITIONS = [m.span() for m in re.finditer(r"\d+", SOLUTION)]


@pytest.mark.parametrize("span", NUMBER_POSITIONS)
def test_every_wrong_number_is_rejected(span):
    a, b = span
    n = int(SOLUTION[a:b])
    for new in {(n + 1) % 23, (n + 22) % 23, n + 23}:
        v = verify_solution(PROBLEM, SOLUTION[:a] + str(new) + SOLUTION[b:])
        assert not v.correct and v.reason and isinstance(v.details, dict)


def test_wrong_operator_result_reason():
    s = SOLUTION.replace("13 + 7 = 20", "13 + 7 = 21")
    v = verify_solution(PROBLEM, s)
    assert not v.correct and v.reason == "sentence 4: 13 + 7 = 21 is wrong mod 23 (20)"
    assert v.details["first_error_sentence"] == 4


def test_wrong_stated_value_and_constant():
    v = verify_solution(PROBLEM, SOLUTION.replace("17 + 13 = 7", "18 + 13 = 8"))
    assert not v.correct and "p is 17 but is written as 18" in v.reason
    v = verify_solution(PROBLEM, SOLUTION.replace("12 + 20 = 9", "13 + 20 = 10"))
    assert not v.correct and "constant 12 is written as 13" in v.reason
    v = verify_solution(PROBLEM, SOLUTION.replace("so p = 17", "so p = 18").replace("17 + 13 = 7", "18 + 13 = 8"))
    assert not v.correct and "true value is 17" in v.reason and v.reason.startswith("sentence 1:")
    v = verify_solution(PROBLEM, SOLUTION.replace("so p = 17", "so p = 40"))
    assert not v.correct and "out of range" in v.reason


def test_wrong_operator_choice():
    # the arithmetic is right, the parents are right, the value is not the problem's
    v = verify_solution(PROBLEM, SOLUTION.replace("so w = g + W = 9 + 13 = 22", "so w = g * W = 9 * 13 = 2"))
    assert not v.correct and "true value is 22" in v.reason


def test_wrong_parent_reason():
    v = verify_solution(PROBLEM, SOLUTION.replace("so w = g + W = 9 + 13 = 22", "so w = g + p = 9 + 17 = 3"))
    assert not v.correct
    assert v.reason == ("sentence 5: 'Film Studio's Backpack' uses parents {'Dance Studio's School Daypack', "
                        "'Film Studio's School Daypack'} but needs {'Film Studio's Messenger Backpack', "
                        "'Film Studio's School Daypack'}")


VAR_SPOTS = [(k, m.span()) for k, s in enumerate(SENTS) for m in re.finditer(r"(?<=[=+*-] )[A-Za-z](?= )", s)]


@pytest.mark.parametrize("k,span", VAR_SPOTS)
def test_every_variable_swap_is_rejected(k, span):
    defined = [m.group(1) for m in re.finditer(r" as ([A-Za-z]);", SOLUTION)] + ["R"]
    a, b = span
    for other in defined:
        if other == SENTS[k][a:b]:
            continue
        sents = list(SENTS)
        sents[k] = sents[k][:a] + other + sents[k][b:]
        v = verify_solution(PROBLEM, sol(sents))
        assert not v.correct, (sents[k], v)


def test_out_of_order_sentences():
    sents = list(SENTS)
    sents[1], sents[2] = sents[2], sents[1]  # Central High's Film Studio needs W, now defined after it
    v = verify_solution(PROBLEM, sol(sents))
    assert not v.correct
    assert v.reason == ("sentence 2: 'Central High's Film Studio' is defined before its parent(s) "
                        "{'Film Studio's Messenger Backpack'}")
    pp = parse_problem(PROBLEM)
    ev = pp.evaluate()
    keys = [pp.resolve_name(re.match(r"Define (.+) as", s).group(1)) for s in SENTS]
    n_rejected = 0
    for i in range(len(SENTS)):
        for j in range(i + 1, len(SENTS)):
            order = list(range(len(SENTS)))
            order[i], order[j] = j, i
            valid = all(ev.parents[keys[o]] <= {keys[x] for x in order[:pos]} for pos, o in enumerate(order))
            v = verify_solution(PROBLEM, sol([SENTS[o] for o in order]))
            assert v.correct == valid, (i, j, v.reason)
            n_rejected += not valid
    assert n_rejected >= 10


def test_defined_twice_and_unknown_and_variable_reuse():
    v = verify_solution(PROBLEM, sol(SENTS[:2] + ["Define Dance Studio's School Daypack as z; so z = 17"] + SENTS[2:]))
    assert not v.correct and "defined twice (first in sentence 1)" in v.reason and v.reason.startswith("sentence 3:")
    v = verify_solution(PROBLEM, sol(SENTS[:2] + ["Define Film Studio's Pencil Case as z; so z = 3"] + SENTS[2:]))
    assert not v.correct and v.reason == "sentence 3: unknown parameter 'Film Studio's Pencil Case'"
    v = verify_solution(PROBLEM, sol(SENTS[:2] + ["Define Central High's Dance Studio as z; so z = 3"] + SENTS[2:]))
    assert not v.correct and "unknown parameter" in v.reason  # items exist, edge does not
    v = verify_solution(PROBLEM, sol(SENTS[:2] + ["Define Film Studio's Classroom as z; so z = 3"] + SENTS[2:]))
    assert not v.correct and "unknown parameter" in v.reason  # Classroom is not below Film Studio
    v = verify_solution(PROBLEM, SOLUTION.replace("as W; so W = 13", "as p; so p = 13"))
    assert not v.correct and "variable 'p' is defined twice" in v.reason
    v = verify_solution(PROBLEM, SOLUTION.replace("R = W + B = 13 + 7 = 20; so g = 12 + R = 12 + 20",
                                                  "W = W + B = 13 + 7 = 20; so g = 12 + W = 12 + 20"))
    assert not v.correct and "'W' is defined twice" in v.reason
    v = verify_solution(PROBLEM, SOLUTION.replace("R = W + B = 13 + 7 = 20; so g = 12 + R",
                                                  "so g = 12 + R = 12 + 20 = 9; R = W + B = 13 + 7 = 20; so g = 12 + R"))
    assert not v.correct


def test_answer_errors_and_last_parameter():
    v = verify_solution(PROBLEM, SOLUTION.replace("Answer: 16.", "Answer: 15."))
    assert not v.correct and v.reason == "sentence 7: wrong answer 15 (true answer 16)"
    v = verify_solution(PROBLEM, sol(SENTS, None))
    assert not v.correct and v.reason == "missing answer"
    v = verify_solution(PROBLEM, sol(SENTS, "sixteen"))
    assert not v.correct and "not a number" in v.reason
    v = verify_solution(PROBLEM, sol(SENTS[:-1], "22"))
    assert not v.correct and "is not the query 'Central High's Backpack'" in v.reason
    v = verify_solution(PROBLEM, "Answer: 16.")
    assert not v.correct and v.reason == "no solution sentences"
    v = verify_solution(PROBLEM, sol(SENTS[:3] + ["Answer: 16"] + SENTS[3:]))
    assert not v.correct and "not at the end" in v.reason


def test_syntax_errors():
    bad = {
        "so B = p + W = 17 + 13 = 7": "B = p + W = 17 + 13 = 7",  # missing 'so'
        "so p = 17": "so p = p",  # a copy without a value
        "so w = g + W = 9 + 13 = 22": "so w = g + W + p = 9 + 13 + 17 = 16",  # not binary
        "as c; so c = B * w": "as c; so x = B * w",  # final step defines another variable
        "so c = B * w = 7 * 22 = 16": "so c = B * w = 7 + 22 = 16",  # operator mismatch
        "Define Central High's Backpack as c": "Defne Central High's Backpack as c",
    }
    for old, new in bad.items():
        assert old in SOLUTION
        v = verify_solution(PROBLEM, SOLUTION.replace(old, new))
        assert not v.correct and v.reason.startswith("sentence"), (new, v.reason)


# ------------------------------------------------------------------------------ unnecessary parameters
def test_unnecessary_parameters_are_counted():
    v = verify_solution(PROBLEM, sol(SENTS[:5] + [RIVERVIEW_FILM] + SENTS[5:]))
    assert v.correct, v.reason
    assert v.details["n_unnecessary"] == 1 and v.details["n_sentences"] == 7
    extra = ["Define Dance Studio's Backpack as x; so x = p = 17", RIVERVIEW_FILM]
    v = verify_solution(PROBLEM, sol(SENTS[:5] + extra + SENTS[5:]))
    assert v.correct and v.details["n_unnecessary"] == 2
    # Riverview High's Dance Studio needs the query itself, so it can only come after it: then the last
    # parameter is no longer the query.
    dance = ("Define Riverview High's Dance Studio as D; E = w + W = 22 + 13 = 12; F = E + g = 12 + 9 = 21; "
             "so D = F + c = 21 + 16 = 14")
    v = verify_solution(PROBLEM, sol(SENTS + [dance]))
    assert not v.correct and "is not the query" in v.reason
    v = verify_solution(PROBLEM, sol(SENTS[:5] + [dance] + SENTS[5:]))
    assert not v.correct and "before its parent" in v.reason


def test_unnecessary_but_wrong_is_an_error():
    v = verify_solution(PROBLEM, sol(SENTS[:5] + [RIVERVIEW_FILM.replace("= 11", "= 12")] + SENTS[5:]))
    assert not v.correct and "wrong mod 23" in v.reason


# ------------------------------------------------------------------------------ a hand-made 3-layer Zoo problem
# Window Enclosure → Animal → Bone (offset 1); a two-level abstract, a difference, a 3-way sum, N times / N more.
ZOO_PROBLEM = (
    " The number of each Penguin Pool's Lion equals 3. "
    "The number of each Tiger's Frontal Bone equals the difference of each Lion's Frontal Bone and each Penguin "
    "Pool's Lion. The number of each Lion's Frontal Bone equals 4 times as much as each Penguin Pool's Lion. "
    "The number of each Penguin Pool's Tiger equals 5 more than the sum of each Lion's Frontal Bone, each Tiger's "
    "Frontal Bone and each Penguin Pool's Lion. How many Bone does Penguin Pool have?"
)
ZOO_SENTS = [
    "Define Penguin Pool's Lion as a; so a = 3",
    "Define Lion's Frontal Bone as b; so b = 4 * a = 4 * 3 = 12",
    "Define Tiger's Frontal Bone as c; so c = b - a = 12 - 3 = 9",
    "Define Penguin Pool's Tiger as d; e = b + c = 12 + 9 = 21; f = e + a = 21 + 3 = 1; so d = 5 + f = 5 + 1 = 6",
    "Define Lion's Bone as g; so g = b = 12",
    "Define Tiger's Bone as h; so h = c = 9",
    "Define Penguin Pool's Bone as i; j = a * g = 3 * 12 = 13; k = d * h = 6 * 9 = 8; so i = j + k = 13 + 8 = 21",
]


def test_hand_made_zoo_problem():
    pp = parse_problem(ZOO_PROBLEM)
    assert pp.candidates == [(1, 1)] and pp.n_layers == 3
    assert pp.rules[("Penguin Pool", "Tiger")].combine == "sum" and len(pp.rules[("Penguin Pool", "Tiger")].refs) == 3
    v = verify_solution(ZOO_PROBLEM, sol(ZOO_SENTS, "21"))
    assert v.correct, v.reason
    # the abstract order may vary (Tiger's Bone before Lion's Bone), and a sub-product order too
    s2 = ZOO_SENTS[:4] + [ZOO_SENTS[5], ZOO_SENTS[4], ZOO_SENTS[6].replace("j = a * g = 3 * 12", "j = g * a = 12 * 3")]
    assert verify_solution(ZOO_PROBLEM, sol(s2, "21")).correct
    # skipping the sub-abstract (using the instance parameter directly) is a wrong parent set
    s3 = ZOO_SENTS[:4] + ["Define Penguin Pool's Bone as i; j = a * b = 3 * 12 = 13; k = d * c = 6 * 9 = 8; "
                          "so i = j + k = 13 + 8 = 21"]
    v = verify_solution(ZOO_PROBLEM, sol(s3, "21"))
    assert not v.correct and "before its parent(s) {'Lion's Bone', 'Tiger's Bone'}" in v.reason
    s3 = ZOO_SENTS[:6] + [s3[-1]]
    v = verify_solution(ZOO_PROBLEM, sol(s3, "21"))
    assert not v.correct and "uses parents" in v.reason
    # difference order matters
    v = verify_solution(ZOO_PROBLEM, sol([ZOO_SENTS[0], ZOO_SENTS[1], "Define Tiger's Frontal Bone as c; "
                                          "so c = a - b = 3 - 12 = 14"] + ZOO_SENTS[3:], "21"))
    assert not v.correct and "true value is 9" in v.reason


def test_ambiguous_category_layer():
    # Unknown item names, 3 layers, the only category is on a root: "Backpack" may be layer 2 (window
    # School..Backpack) or layer 1 (window Classroom..Stationery), and no name says which.
    p = ("The number of each Qa's Qb equals 3. The number of each Qb's Qc equals 4. "
         "How many Backpack does Qa have?")
    pp = parse_problem(p)
    assert pp.candidates == [(2, 0), (2, 1)]
    # Reading 1 (Backpack one layer below Qa): a copy. The text admits that reading → correct.
    v = verify_solution(p, "Define Qa's Qb as x; so x = 3. Define Qa's Backpack as y; so y = x = 3. Answer: 3.")
    assert v.correct, v.reason
    assert v.details["n_readings"] == 2 and v.details["ambiguous_readings"] == 1
    # Defining Qb's Backpack pins the other reading (Backpack below Qb), and then the solution verifies.
    s = ("Define Qa's Qb as x; so x = 3. Define Qb's Qc as z; so z = 4. Define Qb's Backpack as u; so u = z = 4. "
         "Define Qa's Backpack as y; so y = x * u = 3 * 4 = 12. Answer: 12.")
    v = verify_solution(p, s)
    assert v.correct, v.reason
    # wrong under every reading: rejected
    v = verify_solution(p, "Define Qa's Qb as x; so x = 3. Define Qa's Backpack as y; so y = x = 3. Answer: 4.")
    assert not v.correct


# The official generator's one-in-300 case, with synthetic names: "Backpack" may be layer 1 or layer 2 by the
# category names alone, but the layer-1 items are called "... Backpack", so the problem's own sentences say it.
NAMED_LAYER = ("The number of each Qrock Wall's Trail Backpack equals 18 times as much as each Trail Backpack's "
               "Qcard Holder. The number of each Trail Backpack's Qcard Holder equals 6. The number of each Qgolf "
               "Area's Sweaty Backpack equals 2 more than each Qrock Wall's Backpack. The number of each Sweaty "
               "Backpack's Qring Binder equals 5. How many Backpack does Qgolf Area have?")


def test_category_layer_from_the_problem_names():
    pp = parse_problem(NAMED_LAYER)
    assert pp.candidates == [(2, 0), (2, 1)]  # School..Backpack or Classroom..Stationery
    # Backpack = the layer of Trail/Sweaty Backpack (reading (2, 1)): the official solution
    s = ("Define Trail Backpack's Qcard Holder as V; so V = 6. Define Qrock Wall's Trail Backpack as T; so T = 18 * "
         "V = 18 * 6 = 16. Define Qrock Wall's Backpack as f; so f = T = 16. Define Qgolf Area's Sweaty Backpack as "
         "y; so y = 2 + f = 2 + 16 = 18. Define Qgolf Area's Backpack as G; so G = y = 18. Answer: 18.")
    v = verify_solution(NAMED_LAYER, s)
    assert v.correct, v.reason
    assert "ambiguous_readings" not in v.details
    # The same answer path under the other reading (Backpack two layers down) is refused: the names decide.
    s2 = ("Define Trail Backpack's Qcard Holder as V; so V = 6. Define Qrock Wall's Trail Backpack as T; so T = 18 * "
          "V = 18 * 6 = 16. Define Trail Backpack's Backpack as u; so u = V = 6. Define Qrock Wall's Backpack as f; "
          "so f = T * u = 16 * 6 = 4. Define Qgolf Area's Sweaty Backpack as y; so y = 2 + f = 2 + 4 = 6. Define "
          "Sweaty Backpack's Backpack as w; so w = 5. Define Qgolf Area's Backpack as G; so G = y * w = 6 * 5 = 7. "
          "Answer: 7.")
    v = verify_solution(NAMED_LAYER, s2)
    assert not v.correct and "unknown parameter 'Trail Backpack's Backpack'" in v.reason, v.reason
    # without the names' evidence (the items renamed) both readings stand and both solutions verify
    plain = NAMED_LAYER.replace("Trail Backpack", "Qtrail").replace("Sweaty Backpack", "Qsweat")
    for sol_text in (s, s2):
        fixed = sol_text.replace("Trail Backpack", "Qtrail").replace("Sweaty Backpack", "Qsweat")
        if sol_text is s2:
            fixed = fixed.replace("so w = 5", "so w = r = 5").replace(
                "Define Sweaty", "Define Qsweat").replace("Define Qsweat's Backpack", "Define Qsweat's Qring Binder "
                                                           "as r; so r = 5. Define Qsweat's Backpack")
        v = verify_solution(plain, fixed)
        assert v.correct, (fixed, v.reason)


def test_foreign_names_with_apostrophes():
    # "BJ's Wholesale Club" (the official lists have names with "'s"); "Wholesale Club" alone is one of our
    # names, which must not make the parser split "Qold Town's BJ's Wholesale Club" after "BJ".
    p = ("The number of each Qold Town's BJ's Wholesale Club equals 3. The number of each Qold Town's Qcorner "
         "Shop equals 2. The number of each Qcorner Shop's Qrice Cakes equals 4 more than each BJ's Wholesale "
         "Club's Product. How many Product does Qold Town have?")
    pp = parse_problem(p)
    assert ("Qold Town", "BJ's Wholesale Club") in pp.rules
    s = ("Define BJ's Wholesale Club's Product as a; so a = 0. Define Qcorner Shop's Qrice Cakes as b; so b = 4 + a "
         "= 4 + 0 = 4. Define Qcorner Shop's Product as c; so c = b = 4. Define Qold Town's BJ's Wholesale Club as "
         "d; so d = 3. Define Qold Town's Qcorner Shop as e; so e = 2. Define Qold Town's Product as f; g = d * a = "
         "3 * 0 = 0; h = e * c = 2 * 4 = 8; so f = g + h = 0 + 8 = 8. Answer: 8.")
    v = verify_solution(p, s)
    assert v.correct, v.reason
    # the question names the same split
    q = p.replace("How many Product does Qold Town have?", "How many BJ's Wholesale Club does Qold Town have?")
    v = verify_solution(q, "Define Qold Town's BJ's Wholesale Club as d; so d = 3. Answer: 3.")
    assert v.correct, v.reason
    # a name with "'s" as the child of one parameter and the owner of another: the split that makes it one
    # item in three names beats the one that makes "Big Market" an item in two
    p = ("The number of each Qapt Complex's Jim's Big Market equals 19. The number of each Qpublic Housing's "
         "Jim's Big Market equals 17 times as much as each Qapt Complex's Jim's Big Market. The number of each "
         "Jim's Big Market's Qrice Cakes equals each Qpublic Housing's Jim's Big Market. "
         "How many Qrice Cakes does Jim's Big Market have?")
    pp = parse_problem(p)
    assert set(pp.rules) == {("Qapt Complex", "Jim's Big Market"), ("Qpublic Housing", "Jim's Big Market"),
                             ("Jim's Big Market", "Qrice Cakes")}
    s = ("Define Qapt Complex's Jim's Big Market as a; so a = 19. Define Qpublic Housing's Jim's Big Market as b; "
         "so b = 17 * a = 17 * 19 = 1. Define Jim's Big Market's Qrice Cakes as c; so c = b = 1. Answer: 1.")
    v = verify_solution(p, s)
    assert v.correct, v.reason


def test_childless_top_item_named_only_by_an_abstract_parameter():
    # "Lincoln High" has no children, so no instance parameter names it: it is a top-layer item whose
    # abstract parameters are 0 with no parents ("so x = 0").
    p = PROBLEM.replace("equals 13.", "equals 13 more than each Lincoln High's Backpack.")
    pp = parse_problem(p)
    assert pp.depth["Lincoln High"] == 0 and "Lincoln High" in pp.layers[0]
    assert pp.evaluate().parents[("Lincoln High", "Backpack")] == frozenset()
    s = sol(["Define Lincoln High's Backpack as L; so L = 0",
             SENTS[0], "Define Film Studio's Messenger Backpack as W; so W = 13 + L = 13 + 0 = 13"] + SENTS[2:])
    v = verify_solution(p, s)
    assert v.correct, v.reason
    v = verify_solution(p, SOLUTION)
    assert not v.correct and "before its parent(s) {'Lincoln High's Backpack'}" in v.reason
    q = PROBLEM.replace("How many Backpack does Central High have?", "How many Classroom does Lincoln High have?")
    v = verify_solution(q, "Define Lincoln High's Classroom as x; so x = 0. Answer: 0.")
    assert v.correct, v.reason


def test_problem_parse_errors():
    for bad in ["", "How many Backpack does Central High have?", "The number of each A's B equals 3.",
                "The number of each A's B equals each B's A. The number of each B's A equals 3. How many A does B have?",
                "The number of each A's B equals each A's C. How many B does A have?",
                "The number of each A's B equals 99. How many B does A have?",
                PROBLEM.replace("equals 17", "equals seventeen")]:
        with pytest.raises(ProblemParseError):
            parse_problem(bad)
        v = verify_solution(bad, SOLUTION)
        assert not v.correct and v.reason.startswith("problem:")


def test_apostrophe_in_item_names():
    p = ("The number of each Trader Joe's's Jungle Jim's Cheese equals 4. The number of each Jungle Jim's Cheese's "
         "Apple equals 2 times as much as each Trader Joe's's Jungle Jim's Cheese. How many Ingredient does "
         "Trader Joe's have?")
    pp = parse_problem(p)
    assert ("Trader Joe's", "Jungle Jim's Cheese") in pp.rules
    s = ("Define Trader Joe's's Jungle Jim's Cheese as a; so a = 4. Define Jungle Jim's Cheese's Apple as b; "
         "so b = 2 * a = 2 * 4 = 8. Define Jungle Jim's Cheese's Ingredient as c; so c = b = 8. Define Trader Joe's's "
         "Ingredient as d; so d = a * c = 4 * 8 = 9. Answer: 9.")
    v = verify_solution(p, s)
    assert v.correct, v.reason


# ------------------------------------------------------------------------------ garbage never raises
WORDS = re.findall(r"\S+", SOLUTION) + [".", ";", "=", "[BACK]", "BACK", "so", "Answer:", "Define", "as", "'s"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises(s):
    v = verify_solution(PROBLEM, s)
    assert isinstance(v, Verdict) and not v.correct and v.reason


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=60), st.sampled_from([" ", "", ". "]))
def test_token_soup_never_raises(toks, sep):
    v = verify_solution(PROBLEM, sep.join(toks))
    assert isinstance(v, Verdict) and v.reason


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(SENTS + ["Define Film Studio's Backpack as [BACK]", "Answer: 16", RIVERVIEW_FILM]),
                max_size=10))
def test_sentence_soup_never_raises(sents):
    v = verify_solution(PROBLEM, ". ".join(sents) + ".")
    assert isinstance(v, Verdict) and v.reason


PWORDS = re.findall(r"\S+", PROBLEM)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PWORDS), max_size=80), st.text(max_size=30))
def test_problem_soup_never_raises(toks, s):
    v = verify_solution(" ".join(toks), SOLUTION)
    assert isinstance(v, Verdict) and v.reason
    v = verify_solution(s, s, answer=s)
    assert isinstance(v, Verdict) and not v.correct


def test_non_text_inputs():
    for args in [(None, SOLUTION), (PROBLEM, None), (PROBLEM, 5), (3, 4), (PROBLEM, SOLUTION, "x"),
                 (PROBLEM, SOLUTION, True), (PROBLEM, b"bytes")]:
        v = verify_solution(*args)
        assert isinstance(v, Verdict) and not v.correct and v.reason
    assert parse_solution(None).sentences == []  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ generated problems
def _generator():
    try:
        from harness_igsm.task import IGSMConfig, IGSMTask
    except Exception as e:  # noqa: BLE001 - any import failure means "not there yet"
        pytest.skip(f"iGSM generator not importable yet (harness_igsm.task): {type(e).__name__}: {e}")
    return IGSMTask(IGSMConfig())


def _true_answer(p):
    g = p.payload
    try:
        return g.value[g.query]
    except Exception:  # noqa: BLE001
        return p.meta.get("answer")


def test_oracle_solutions_of_generated_problems_verify():
    task = _generator()
    probs = task.sample_batch(random.Random(0), 200)
    problem_text = getattr(task, "problem_text", None) or task.prompt_text
    bad = []
    for p in probs:
        text = problem_text(p)
        solution = task.trace_text(p, task.oracle(p))
        v = verify_solution(text, solution, answer=None if "Answer" in solution else _true_answer(p))
        if not v.correct or v.details["n_unnecessary"] or v.details["n_back"]:
            bad.append((text, solution, v.reason))
    assert not bad, bad[:3]


def test_generator_graphs_verify():
    """graph.generate + text rendering (the generator's internals; skipped if their API moved)."""
    try:
        from harness_igsm import graph, text
        from harness_igsm.names import CATEGORIZATIONS

        subcats = [[list(NAMES[c].values()) for c in ch] for ch in CATEGORIZATIONS]
        rng = random.Random(0)
        cases = []
        for _ in range(200):
            g = graph.generate(rng, graph.train_op(rng, 15), 20, (CATEGORIZATIONS, subcats))
            it, ct = text.token_tables(g)
            nm = text.param_names_ids(g, it, ct)
            fmt = rng.choice(["pq", "qp"])
            problem = text.text_of(text.problem_ids(g, rng, nm, it, ct, fmt))
            sents, _ = text.solution_sentences(g, rng, nm)
            cases.append((problem, text.text_of([t for s_ in sents for t in s_]), g.value[g.query]))
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"generator internals not usable here: {type(e).__name__}: {e}")
    bad = []
    for problem, solution, ans in cases:
        v = verify_solution(problem, solution, answer=ans)
        if not v.correct or v.details["n_unnecessary"]:
            bad.append((problem, solution, v.reason))
    assert not bad, bad[:3]


# ------------------------------------------------------------------------------ a tiny independent writer
# Random structure graphs (2-4 layers, any window of any chain), random instance rules over earlier parameters
# (abstract ones included), a random query; the solution is written here with its own value computation and
# binarization, so the round trip checks parse + verify against an independent implementation.


def _random_problem(rng: random.Random, fake_names: bool = False):
    for _ in range(100):
        try:
            return _random_problem_once(rng, fake_names)
        except IndexError:  # more than 52 variables: draw another
            continue
    raise AssertionError("no small enough problem drawn")


def _random_problem_once(rng: random.Random, fake_names: bool):
    chain = rng.randrange(4)
    d = rng.choice([2, 3, 4])
    off = rng.randrange(0, 4 - d + 1)
    cats = CHAINS[chain][off : off + d]
    layers = []
    for cat in cats:
        pool = [n for sub in NAMES[cat].values() for n in sub]
        if fake_names:  # unknown to names.py: the category layer must come from the text alone
            pool = [f"Item {cat[:2]}{k}" for k in range(9)]
        layers.append(rng.sample(pool, rng.randint(2, 3)))
    edges = []
    for i in range(1, d):
        for b in layers[i]:
            edges.append((rng.choice(layers[i - 1]), b))
        for a in layers[i - 1]:
            for b in layers[i]:
                if (a, b) not in edges and rng.random() < 0.3:
                    edges.append((a, b))
    depth = {it: i for i, lay in enumerate(layers) for it in lay}
    kids = {}
    for a, b in edges:
        kids.setdefault(a, []).append(b)

    def abs_parents(a, k):
        lk = cats.index(k)
        ps = [(a, c) for c in kids.get(a, [])]
        if lk > depth[a] + 1:
            ps += [(c, k) for c in kids.get(a, [])]
        return ps

    abstracts = [(a, k) for a in depth for k in cats if cats.index(k) > depth[a]]
    order = edges[:]
    rng.shuffle(order)
    rules, placed = {}, set()
    for p in order:
        avail = sorted(placed) + [x for x in abstracts if _closure(x, abs_parents, edges) <= placed]
        n = min(len(avail), rng.choice([0, 1, 1, 2, 2, 3, 4]))
        refs = rng.sample(avail, n)
        if n == 0:
            rules[p] = ("const", rng.randrange(23), [])
        else:
            comb = "ref" if n == 1 else ("diff" if n == 2 and rng.random() < 0.5 else "sum")
            wrap = rng.choice([None, "more", "times"])
            rules[p] = (comb, (wrap, rng.randrange(23) if wrap == "more" else rng.randrange(1, 23)), refs)
        placed.add(p)
    vals = {}

    def val(p):
        if p in vals:
            return vals[p]
        if p in rules:
            comb, extra, refs = rules[p]
            if comb == "const":
                v = extra
            else:
                xs = [val(r) for r in refs]
                x = xs[0] - xs[1] if comb == "diff" else sum(xs)
                wrap, n = extra
                v = n + x if wrap == "more" else n * x if wrap == "times" else x
        else:
            a, k = p
            if cats.index(k) == depth[a] + 1:
                v = sum(val((a, c)) for c in kids.get(a, []))
            else:
                v = sum(val((a, c)) * val((c, k)) for c in kids.get(a, []))
        vals[p] = v % 23
        return vals[p]

    def parents(p):
        return list(rules[p][2]) if p in rules else abs_parents(*p)

    def phrase(refs):
        e = [f"each {a}'s {b}" for a, b in refs]
        return e[0] if len(e) == 1 else ", ".join(e[:-1]) + " and " + e[-1]

    sents = []
    for p, (comb, extra, refs) in rules.items():
        if comb == "const":
            rhs = str(extra)
        else:
            x = {"ref": phrase(refs), "sum": "the sum of " + phrase(refs), "diff": "the difference of " + phrase(refs)}[comb]
            wrap, n = extra
            rhs = f"{n} more than {x}" if wrap == "more" else f"{n} times as much as {x}" if wrap == "times" else x
        sents.append(f"The number of each {p[0]}'s {p[1]} equals {rhs}")
    rng.shuffle(sents)
    query = rng.choice(list(rules) + abstracts)
    q = f"How many {query[1]} does {query[0]} have?"
    body = ". ".join(sents) + "."
    text = f" {q} {body}" if rng.random() < 0.5 else f" {body} {q}"
    val(query)
    # the necessary parameters in a random topological order
    need, stack = set(), [query]
    while stack:
        p = stack.pop()
        if p not in need:
            need.add(p)
            stack += parents(p)
    topo, done = [], set()
    while len(topo) < len(need):
        ready = [p for p in sorted(need - done) if set(parents(p)) <= done and p != query or
                 (p == query and need - done == {query})]
        p = rng.choice(ready)
        topo.append(p)
        done.add(p)
    letters = rng.sample([chr(c) for c in range(65, 91)] + [chr(c) for c in range(97, 123)], 52)
    var = {}
    out = []
    for p in topo:
        v = letters.pop()
        steps = []

        def fold(opds, op, final):
            acc = opds[0]
            for i, o in enumerate(opds[1:]):
                r = (acc[1] + o[1]) if op == "+" else (acc[1] - o[1]) if op == "-" else acc[1] * o[1]
                t = final if i == len(opds) - 2 and final else letters.pop()
                steps.append(f"{'so ' if t == final else ''}{t} = {acc[0]} {op} {o[0]} = {acc[1]} {op} {o[1]} = {r % 23}")
                acc = (t, r % 23)
            return acc

        def ref(r):
            return (var[r], vals[r])

        if p in rules:
            comb, extra, refs = rules[p]
            if comb == "const":
                steps.append(f"so {v} = {extra}")
            else:
                wrap, n = extra
                opds = [ref(r) for r in refs]
                if wrap is None:
                    if len(opds) == 1:
                        steps.append(f"so {v} = {opds[0][0]} = {opds[0][1]}")
                    else:
                        fold(opds, "-" if comb == "diff" else "+", v)
                else:
                    x = opds[0] if len(opds) == 1 else fold(opds, "-" if comb == "diff" else "+", None)
                    fold([(str(n), n), x], "+" if wrap == "more" else "*", v)
        else:
            a, k = p
            cs = kids.get(a, [])
            if cats.index(k) == depth[a] + 1:
                opds = [ref((a, c)) for c in cs]
            else:
                opds = [fold([ref((a, c)), ref((c, k))], "*", v if len(cs) == 1 else None) for c in cs]
            if len(opds) == 1 and cats.index(k) == depth[a] + 1:
                steps.append(f"so {v} = {opds[0][0]} = {opds[0][1]}")
            elif len(opds) > 1:
                fold(opds, "+", v)
            elif not opds:  # an item without children in a middle layer: nothing below it
                steps.append(f"so {v} = 0")
        var[p] = v
        out.append(f"Define {p[0]}'s {p[1]} as {v}; " + "; ".join(steps))
    return text, ". ".join(out) + f". Answer: {val(query)}.", val(query), len(need)


def _closure(x, abs_parents, edges):
    """The instance parameters an abstract parameter needs (all of them must be placed before it is usable)."""
    out, stack = set(), [x]
    while stack:
        p = stack.pop()
        if p in edges:
            out.add(p)
        else:
            stack += abs_parents(*p)
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9))
def test_independent_writer_round_trip(seed):
    rng = random.Random(seed)
    text, solution, ans, n_need = _random_problem(rng)
    v = verify_solution(text, solution)
    assert v.correct, (text, solution, v.reason)
    assert v.details["true_answer"] == ans and v.details["n_sentences"] == n_need
    # any single number changed is rejected
    spans = [m.span() for m in re.finditer(r"\d+", solution)]
    a, b = rng.choice(spans)
    n = int(solution[a:b])
    bad = solution[:a] + str((n + rng.randint(1, 22)) % 23) + solution[b:]
    assert not verify_solution(text, bad).correct, bad


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9))
def test_independent_writer_unknown_item_names(seed):
    # Items unknown to names.py: the window comes from the text (and the solution's abstract Defines); a
    # correct solution is accepted whichever reading the text leaves open, a single wrong number is not.
    rng = random.Random(seed)
    text, solution, ans, _ = _random_problem(rng, fake_names=True)
    v = verify_solution(text, solution)
    assert v.correct, (text, solution, v.reason)
    a, b = rng.choice([m.span() for m in re.finditer(r"\d+", solution)])
    n = int(solution[a:b])
    bad = solution[:a] + str((n + rng.randint(1, 22)) % 23) + solution[b:]
    assert not verify_solution(text, bad).correct, bad


# ------------------------------------------------------------------------------ linear time, bounded input
# Every pattern of the parser runs in time linear in its input: each construction below took seconds to
# minutes with the former regular expressions (quadratic backtracking) at this size, under the size bound.
_P1 = "The number of each A's B equals 3. How many B does A have?"
_L = 90_000


def _cpu_seconds(f, *a):
    import time

    t0 = time.process_time()
    out = f(*a)
    return time.process_time() - t0, out


@pytest.mark.parametrize("problem, solution", [
    # the case: r"How many (.+?) does (.+?) have\?" rescans the rest for every " does "
    ("How many " + "a does " * (_L // 7), SOLUTION),
    ("How many " + "a does " * (_L // 7) + "x have?", SOLUTION),
    ("How many " * (_L // 9), SOLUTION),
    # r"^Define\s+(.+?)\s+as..." rescans a run of spaces from each of its characters
    (_P1, "Define a" + " " * _L + "b"),
    (_P1, "Define a" + " " * _L + "as" + " " * 10 + "b"),
    # r"^(\S+?)\s*([+\-*])\s*(\S+)$" rescans the right operand for every operator in the left one
    (_P1, "Define A's B as x; so x = " + "+-" * (_L // 2) + " x = 1 + 2 = 3"),
    # r"^Answer\s*:\s*(.*?)\s*\.?$" rescans a run of spaces from each of its characters
    (_P1, "Define A's B as x; so x = 3. Answer: 1" + " " * _L + "x"),
    # every split of a name with thousands of "'s " copies the name
    ("The number of each " + "a's " * (_L // 4) + "B equals 3. How many B does A have?", SOLUTION),
    (_P1, "Define " + "a's " * (_L // 4) + "B as x; so x = 3. Answer: 3."),
    # r"(?:,\s+and\s+|,\s+|\s+and\s+)(?=each )" on a run of spaces (normalised away first)
    ("The number of each A's B equals each a" + " " * _L + "x. How many B does A have?", SOLUTION),
])
def test_adversarial_text_is_linear_time(problem, solution):
    assert len(problem) <= 100_000 and len(solution) <= 100_000
    secs, v = _cpu_seconds(verify_solution, problem, solution)
    assert isinstance(v, Verdict) and v.reason
    assert secs < 1.0, f"{secs:.2f} s of CPU for {v.reason[:80]!r}"


def test_problem_and_solution_size_are_bounded():
    from harness_igsm.parse import MAX_PROBLEM_CHARS, MAX_SOLUTION_CHARS

    # just under the bound still parses (whitespace is normalised away) and verifies
    padded = PROBLEM + " " * (MAX_PROBLEM_CHARS - len(PROBLEM))
    assert len(padded) == MAX_PROBLEM_CHARS and verify_solution(padded, SOLUTION).correct
    sol_padded = SOLUTION + " " * (MAX_SOLUTION_CHARS - len(SOLUTION))
    assert verify_solution(PROBLEM, sol_padded).correct
    # one more character is refused unparsed, with the reason and its kind, in no time even for megabytes
    for extra in (1, 10_000_000):
        secs, v = _cpu_seconds(verify_solution, padded + " " * extra, SOLUTION)
        assert not v.correct and v.details["kind"] == "problem too long" and secs < 0.5
        assert v.reason == (f"problem: problem is {MAX_PROBLEM_CHARS + extra:,} characters, more than the "
                            f"{MAX_PROBLEM_CHARS:,} this parser reads")
        secs, v = _cpu_seconds(verify_solution, PROBLEM, sol_padded + " " * extra)
        assert not v.correct and v.details["kind"] == "solution too long" and secs < 0.5
        assert v.reason.startswith(f"solution: solution is {MAX_SOLUTION_CHARS + extra:,} characters")
    with pytest.raises(ProblemParseError) as e:
        parse_problem(padded + " ")
    assert e.value.kind == "problem too long"
    ps = parse_solution(sol_padded + " ")
    assert ps.sentences == [] and ps.error_kind == "solution too long"


def test_huge_integer_answer_from_python_is_a_wrong_answer():
    v = verify_solution(PROBLEM, sol(SENTS, None), answer=10**5000)  # str() refuses > 4300 digits
    assert not v.correct and v.details["kind"] == "wrong answer" and "5001 digits" in v.reason
    v = verify_solution(PROBLEM, SOLUTION, answer=10**5000)
    assert v.details["kind"] == "answer differs from the text" and "internal" not in v.reason


# ------------------------------------------------------------------------------ the linear parsers are the old patterns
_OLD_QUESTION_RE = re.compile(r"How many (.+?) does (.+?) have\?")
_OLD_BIN_RE = re.compile(r"^(\S+?)\s*([+\-*])\s*(\S+)$")
_OLD_ANSWER_RE = re.compile(r"^Answer\s*:\s*(.*?)\s*\.?$", re.S)
_OLD_DEFINE_RE = re.compile(r"^Define\s+(.+?)\s+as\s+([A-Za-z])\s*;(.*)$", re.S)
_OLD_LIST_SEP_RE = re.compile(r"(?:,\s+and\s+|,\s+|\s+and\s+)(?=each )")
_SPACES = [" ", "\t", "\n", "\xa0", "\u2028", "\x1c", "\x85"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["How many ", "How", " many", " does ", "does", " have?", "have", "?", " ", "a",
                                 "b c", "How many a does b have?"]), max_size=25))
def test_find_questions_is_the_old_pattern(toks):
    from harness_igsm.parse import _find_questions, _norm

    text = _norm("".join(toks))
    old = [(m.start(), m.end(), m.group(1), m.group(2)) for m in _OLD_QUESTION_RE.finditer(text)]
    assert _find_questions(text) == old


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "1", "+", "-", "*", "x", "="] + _SPACES), max_size=14))
def test_bin_split_is_the_old_pattern(chars):
    from harness_igsm.parse import _bin_split

    s = "".join(chars).strip()  # the parser only splits stripped parts
    m = _OLD_BIN_RE.match(s)
    assert _bin_split(s) == (m.groups() if m else None)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["Answer", ":", ".", "1", "x", "Answer:"] + _SPACES), max_size=14))
def test_answer_value_is_the_old_pattern(toks):
    from harness_igsm.parse import _ANSWER_HEAD_RE, _answer_value

    s = "".join(toks)
    old, head = _OLD_ANSWER_RE.match(s), _ANSWER_HEAD_RE.match(s)
    assert bool(old) == bool(head)
    if head:
        assert _answer_value(s[head.end():]) == old.group(1)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["Define", "as", "a", "x", ";", "'s", "A's B", "as;", "1"] + _SPACES), max_size=14))
def test_define_pattern_is_the_old_pattern(toks):
    from harness_igsm.parse import _DEFINE_RE

    s = "".join(toks)
    old, new = _OLD_DEFINE_RE.match(s), _DEFINE_RE.match(s)
    if old and not old.group(1).strip():
        assert new is None  # the one difference: a blank name ("Define  as x;") no longer reads as a name
    else:
        assert (old and old.groups()) == (new and new.groups())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["each ", "A's B", ",", " and ", "and", " ", "each", "x"]), max_size=16))
def test_list_separator_is_the_old_pattern_on_normalised_text(toks):
    from harness_igsm.parse import _LIST_SEP_RE, _norm

    s = _norm("".join(toks))
    assert _LIST_SEP_RE.split(s) == _OLD_LIST_SEP_RE.split(s)


# ------------------------------------------------------------------------------ kinds: the cause of a wrong verdict
KINDS = {
    "problem not text", "problem too long", "unreadable problem", "solution not text", "solution too long",
    "answer not an integer", "answer differs from the text", "unreadable sentence", "empty step",
    "misplaced 'so'", "not a variable", "copy without its value", "not a number", "number out of range",
    "unreadable step", "operator mismatch", "wrong variable", "unknown parameter", "parameter defined twice",
    "defined before its parents", "variable defined twice", "variable used before definition",
    "variable written wrong", "constant written wrong", "wrong arithmetic", "wrong parents", "wrong value",
    "second answer", "answer not at the end", "answer not a number", "no solution sentences",
    "last parameter is not the query", "missing answer", "wrong answer",
}


def test_every_wrong_verdict_names_its_kind():
    cases = {
        "wrong value": (PROBLEM, SOLUTION.replace("so p = 17", "so p = 16")),
        "wrong answer": (PROBLEM, sol(SENTS, "15")),
        "missing answer": (PROBLEM, sol(SENTS, None)),
        "unknown parameter": (PROBLEM, sol(["Define Nowhere's Thing as p; so p = 17"] + SENTS[1:])),
        "unreadable problem": ("The number of each A's B equals 99. How many B does A have?", SOLUTION),
        "problem not text": (None, SOLUTION),
        "solution not text": (PROBLEM, 5),
        "number out of range": (PROBLEM, sol(["Define Dance Studio's School Daypack as p; so p = 99"] + SENTS[1:])),
        "wrong arithmetic": (PROBLEM, SOLUTION.replace("17 + 13 = 7", "17 + 13 = 8")),
        "defined before its parents": (PROBLEM, sol([SENTS[2]] + SENTS[:2] + SENTS[3:])),
        "answer not a number": (PROBLEM, sol(SENTS, "sixteen")),
        "misplaced 'so'": (PROBLEM, sol(["Define Dance Studio's School Daypack as p; p = 17"] + SENTS[1:])),
        "answer differs from the text": (PROBLEM, SOLUTION, 15),
    }
    for kind, args in cases.items():
        v = verify_solution(*args)
        assert not v.correct and v.details["kind"] == kind, (kind, v.reason, v.details.get("kind"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=60), st.sampled_from([" ", "", ". "]), st.booleans())
def test_kinds_are_a_fixed_vocabulary(toks, sep, qp):
    # whatever the text, a wrong verdict's kind is one of a fixed set, free of the reason's specifics
    v = verify_solution(PROBLEM_QP if qp else PROBLEM, sep.join(toks))
    if not v.correct:
        assert v.details["kind"] in KINDS, (v.reason, v.details["kind"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PWORDS), max_size=80))
def test_problem_kinds_are_a_fixed_vocabulary(toks):
    v = verify_solution(" ".join(toks), SOLUTION)
    if not v.correct:
        assert v.details["kind"] in KINDS, (v.reason, v.details["kind"])
