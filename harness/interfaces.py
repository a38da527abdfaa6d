"""The nouns data flows through: Problem → oracle trace of Steps → corrupted trace → Encoded tokens.

Tasks, corruptors, model families and trainers are plugins; this module is the contract between them.
Hot-path objects (Step, Problem, Encoded) are slotted dataclasses, not pydantic models, because a data
pipeline builds tens of thousands of them per second. Configs are pydantic models with extra="forbid".
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Sequence, runtime_checkable

import numpy as np
from pydantic import Field

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from harness.budgets import Budget
    from harness.metrics import Metric

# --------------------------------------------------------------------------------------------- tags
class Tag(IntEnum):
    """What a token (and the step that wrote it) is. Steps carry one; every encoded token carries one
    (`Encoded.tags` holds these values as int8), and loss masks, decision-point metrics and probe
    labels are all derived from the encoded tags. A task writes `step.tag` into its tag array as is."""

    PROMPT = 0  #: the problem statement
    ORACLE = 1  #: a step of the oracle solution (and the end-of-solution token)
    MISTAKE = 2  #: a wrong step (or the written prefix of one)
    CORRECTION = 3  #: what undoes a mistake: a natural undo step or the [BACK] token
    PROMPT_NOLOSS = 4  #: prompt tokens the task asks never to train on (e.g. MazeGPT's final recipe)

    @property
    def label(self) -> str:
        """The lowercase name ("mistake") used in JSON and tables."""
        return self.name.lower()


CandidateKind = Literal["wrong", "later", "unused"]
CANDIDATE_KINDS: tuple[str, ...] = ("wrong", "later", "unused")


from harness.config import Config, PlanError  # noqa: E402  (defined apart: budgets and the CLI need no numpy)


class TaskConfig(Config):
    """Fields every task config has: how evaluation problems are kept apart from training ones.

    `disjoint` (default): problems are split by their place in the split space
    (`Task.split_position`, by default a hash of `Task.split_key(problem)`); a fraction
    `eval_fraction` of that space is reserved for evaluation and never trained on. A task with strata
    (`Task.draw_strata`) is split within each stratum, so both sides keep its law over strata.
    `overlap`: train and eval are independent draws from the same distribution (the original studies'
    behaviour; eval items may appear verbatim in training, which results record as `seen_in_train`).
    """

    eval_split: Literal["disjoint", "overlap"] = "disjoint"
    eval_fraction: float = Field(default=0.1, gt=0.0, lt=1.0)


# --------------------------------------------------------------------------------------------- data
@dataclass(slots=True)
class Step:
    """One solution step as the task writes it.

    text: the surface form the task encodes (a maze move "E"; an iGSM sentence).
    key:  the task's identity for the step, used to compare steps across candidate kinds
          (a tile index, a parameter name). Two steps with equal keys are "the same step".
    tag:  Tag.ORACLE | Tag.MISTAKE | Tag.CORRECTION.
    decision: this step was written at a decision point (a position with ≥1 `wrong` candidate).
    """

    text: str
    key: Any = None
    tag: Tag = Tag.ORACLE
    decision: bool = False

    def as_(self, tag: Tag, decision: bool | None = None) -> "Step":
        return Step(self.text, self.key, tag, self.decision if decision is None else decision)


@dataclass(slots=True)
class Problem:
    """One problem instance.

    key:     a stable identity string (the canonical problem text); equal keys = the same problem.
             Train/eval separation and "seen in training" are decided on it.
    payload: the task's own representation (a grid, a dependency graph).
    meta:    small scalar facts the results are broken down by (size, n_decisions, op, ...).
    """

    key: str
    payload: Any
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Encoded:
    """A sample as token ids with a tag per token; tokens[:prompt_len] is the prompt."""

    tokens: np.ndarray  # int64 [T]
    tags: np.ndarray  # int8 [T], Tag values
    prompt_len: int
    #: (start, end) token indices of each trace step, in trace order (decision-point metrics use them)
    step_spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Verdict:
    """The verifier's judgement of one completion. Never an exception: garbage gets a reason."""

    correct: bool
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- bases
class Registered(ABC):
    """What every registered noun has: a name, a version (part of cell identity), a one-line
    description for `harness list`, and a pydantic Config it is built from."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    Config: ClassVar[type[Config]]

    def __init__(self, config: Config):
        self.config = config

    @classmethod
    def budget_defaults(cls, budget: "Budget") -> dict[str, Any]:
        """Config values this component wants under a budget, chosen by `budget.profile` (a smaller
        preset, a narrower model); explicit spec parameters win. A classmethod: it helps build the
        config, so it cannot read one."""
        return {}


# --------------------------------------------------------------------------------------------- task
class ProblemSource(ABC):
    """Where a task's problems and their oracle solutions come from, and how train and eval are kept
    apart (the split and its strata)."""

    @abstractmethod
    def sample(self, rng: random.Random) -> Problem:
        """Draw one problem from the task's distribution."""

    def sample_batch(self, rng: random.Random, n: int) -> list[Problem]:
        """Draw n problems; tasks override this with a vectorised generator where it pays."""
        return [self.sample(rng) for _ in range(n)]

    def sample_eval(self, rng: random.Random, n: int) -> list[Problem]:
        """Draw candidate evaluation problems (default: the training distribution).

        The core filters them through the train/eval split; tasks with an OOD eval distribution
        (iGSM's larger ops) override this."""
        return self.sample_batch(rng, n)

    def split_key(self, problem: Problem) -> str | None:
        """What train/eval separation hashes (default the problem key; iGSM: the solution template).

        None means the problem can never occur on the other side (e.g. an eval op beyond every
        training op): it is accepted without hashing."""
        return problem.key

    def split_position(self, problem: Problem) -> float | None:
        """The problem's place in [0, 1) of the split space: it is an eval problem iff the place is
        below `eval_fraction`. Default: a salted CRC-32 of `split_key` (None when that is None).
        A task overrides this to reproduce a study's own split (iGSM: the paper's SHA-256 bins)."""
        from harness.data import split_bucket

        key = self.split_key(problem)
        return None if key is None else split_bucket(key)

    def draw_strata(self, rng: random.Random, n: int, side: str) -> Sequence[Any] | None:
        """The stratum (e.g. maze size, iGSM op) of each of n problems to draw for `side` ("train" or
        "eval"), in draw order; None (default) means the task has no strata.

        With strata, the core applies the train/eval split *within* each stratum: it draws problems of
        that stratum (`sample_stratum`) until enough land on the side. Each side's law over strata is
        then exactly the law drawn here, however unevenly the split hash divides the strata (without
        strata, a split that holds 7% of small mazes and 10% of large ones skews the eval set)."""
        return None

    def sample_stratum(self, rng: random.Random, stratum: Any, n: int) -> list[Problem]:
        """n problems of one stratum returned by `draw_strata` (required when it returns strata)."""
        raise NotImplementedError(f"task {self.name!r} returns strata but does not sample them")

    @abstractmethod
    def oracle(self, problem: Problem) -> list[Step]:
        """The oracle solution as a list of steps (all tagged oracle)."""

    # optional: problems kept on disk (harness.problem_cache). A task whose problems cost more to
    # generate than to read back implements both; the run then draws each (task, seed)'s problems
    # once and every corruptor cell of that seed, and a resumed run, reads them.
    def problem_record(self, problem: Problem) -> Any:
        """The payload as plain JSON values (lists, dicts, str, int, float, bool, None), from which
        `problem_from_record` rebuilds a problem that behaves identically (the conformance kit's
        `check_problem_records` compares oracle, encoding, prompt, split place, verdict and the core
        corruptors' traces)."""
        raise NotImplementedError

    def problem_from_record(self, key: str, meta: dict[str, Any], record: Any) -> Problem:
        """The problem `problem_record` wrote (its key and meta are kept by the core)."""
        raise NotImplementedError


class CorruptionSeam:
    """What a task answers for corruptors, which know nothing else: for any position i of an oracle
    trace (before oracle step i), which wrong steps could be written there (`candidates`), how much of
    a wrong step is written before it is noticed (`mistake`) and how it is naturally undone (`undo`)."""

    #: candidate kinds this task can answer (subset of "wrong", "later", "unused")
    candidate_kinds: ClassVar[frozenset[str]] = frozenset()
    #: whether `undo` gives a natural reversal of a wrong step (mazes: the opposite move)
    has_natural_undo: ClassVar[bool] = False

    def candidates(
        self, problem: Problem, trace: Sequence[Step], i: int, kind: str
    ) -> Sequence[Step]:
        """Wrong steps that could be written before oracle step i (i == len(trace) means at the end)."""
        raise PlanError(f"task {self.name!r} does not provide {kind!r} candidates")

    def mistake(self, problem: Problem, step: Step) -> Step:
        """The part of a wrong step written before it is noticed (default: all of it)."""
        return step.as_(Tag.MISTAKE)

    def undo(self, problem: Problem, step: Step) -> Step:
        """The natural reversal of a wrong step (maze: the opposite move)."""
        raise PlanError(f"task {self.name!r} has no natural undo")

    def back(self, problem: Problem) -> Step:
        """What retracts a written mistake for the retry family: the [BACK] token as a step.

        Default: the task's `back_token` on its own; iGSM writes "[BACK]." to close the sentence."""
        if self.back_token is None:
            raise PlanError(f"task {self.name!r} has no [BACK] token")
        return Step(self.vocab[self.back_token], None, Tag.CORRECTION)


class Codec(ABC):
    """Problems and traces as token ids with a tag per token, and back. The vocabulary and the special
    ids are class constants."""

    #: token strings; ids are their positions
    vocab: ClassVar[Sequence[str]]
    #: the id that ends a completion (generation stops there per row)
    end_token: ClassVar[int]
    #: True if prompts may contain the end token too (MazeGPT's ';' closes both the maze and the path).
    #: Samples are packed back to back, so a model then also sees the end token followed by more text;
    #: the conformance kit refuses it unless declared here. A new task should give the end its own token.
    end_token_in_prompt: ClassVar[bool] = False
    #: the id of the [BACK] token reserved for the retry family, if the task has one
    back_token: ClassVar[int | None] = None

    @abstractmethod
    def encode(self, problem: Problem, trace: Sequence[Step]) -> Encoded:
        """Prompt + trace + end token as ids and per-token tags."""

    @abstractmethod
    def encode_prompt(self, problem: Problem) -> np.ndarray:
        """The prompt ids a model is asked to continue at evaluation time."""

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Completion ids (after the prompt) back to text, cut at the end token."""

    def step_token_ids(self, step: Step) -> list[int]:
        """The ids that write one step (used by decision-point metrics); default: encode its text."""
        raise NotImplementedError

    def max_new_tokens(self, problem: Problem) -> int:
        """Generation length cap for one problem."""
        return 256

    def trace_text(self, problem: Problem, trace: Sequence[Step]) -> str:
        """The completion text of a trace as the model sees it (for `harness data`, `show`)."""
        enc = self.encode(problem, trace)
        return self.decode(enc.tokens[enc.prompt_len :].tolist())

    def prompt_text(self, problem: Problem) -> str:
        return "".join(self.vocab[i] for i in self.encode_prompt(problem).tolist())


class Verifier(ABC):
    """Judges completions and computes the metrics the task declares."""

    #: the per-cell metrics `eval_metrics` computes (harness.metrics.Metric); the core stores each
    #: in the results column ``task.<name>`` and reports it by its declaration
    metrics: ClassVar[tuple["Metric", ...]] = ()

    @abstractmethod
    def verify(self, problem: Problem, completion: str) -> Verdict:
        """Judge a completion. Must never raise on garbage."""

    def verify_text(self, problem_text: str, completion: str, answer: Any = None) -> Verdict:
        """Judge a completion from the problem's text alone (for `harness score`, which scores output
        written by any model or tool). Optional; must never raise on garbage."""
        raise NotImplementedError(f"task {self.name!r} cannot score from text")

    def eval_metrics(self, problems: Sequence[Problem], verdicts: Sequence[Verdict]) -> dict[str, float]:
        """The declared `metrics` of one cell, from its eval problems and verdicts ({name: value};
        a metric that cannot be computed, e.g. a rate over no items, is left out)."""
        return {}


class Renderer:
    """An optional picture of a problem and its trace (for `harness show`)."""

    def render(self, problem: Problem, trace: Sequence[Step]) -> Any:
        """A rich renderable picture of a problem and trace (for `harness show`); optional."""
        return None


@dataclass
class GoalGrid:
    """A problem's goal moved over a grid (`Task.goal_variants`): the grid's (rows, cols), and for
    each place the goal can be, its (row, col) and the problem with the goal there; `walls` marks
    the cells that are no place at all (drawn dark), `marks` names cells to label (e.g. "s")."""

    shape: tuple[int, int]
    cells: list[tuple[tuple[int, int], Problem]]
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)


class Probing:
    """An optional seam for probe heatmaps (`harness probe --heatmap`)."""

    def goal_variants(self, problem: Problem) -> GoalGrid | None:
        """The same problem with its goal moved to every place it could be (MazeGPT's heatmap moves
        the maze's end over every open tile); None when the task has no such picture (the default)."""
        return None


class Stepping:
    """Optional: where a completion's steps end and whether a step is acceptable, for decoders that
    act at step ends (`regret`: roll back a step its detector flags)."""

    #: token ids that end a step (an iGSM sentence's ".", a maze move); empty: the task has no step ends
    step_end_tokens: ClassVar[frozenset[int]] = frozenset()

    def step_ok(self, problem: Problem, completion: Sequence[int]) -> bool | None:
        """The ground truth on the completion's last step (the ids end with a step end token):
        False if it is a mistake (Physics of LMs' versionP detector), None if it cannot tell."""
        return None


class Task(ProblemSource, CorruptionSeam, Codec, Verifier, Renderer, Probing, Stepping, Registered):
    """A family of step-by-step problems: a problem source with an oracle, the corruptor seam, a
    codec, a verifier and (optionally) a renderer and goal variants for probe heatmaps, configured
    by one `TaskConfig`."""

    Config: ClassVar[type[TaskConfig]]
    config: TaskConfig


# ------------------------------------------------------------------------------------- corruptors
class Corruptor(Registered):
    """Turns an oracle trace into a trace with tagged mistakes and corrections, knowing no task."""

    def check(self, task: Task) -> None:
        """Raise PlanError if this corruptor cannot run on the task (checked at plan time)."""

    @abstractmethod
    def corrupt(
        self, task: Task, problem: Problem, trace: list[Step], rng: random.Random
    ) -> list[Step]:
        """The corrupted trace. Must be reproducible from rng alone."""

    def loss_masked_tags(self) -> frozenset[int]:
        """Token tags that carry no loss under this corruptor (retry with mask=true: Tag.MISTAKE)."""
        return frozenset()


# ----------------------------------------------------------------------------------------- models
@runtime_checkable
class DecodableModel(Protocol):
    """What the decoders and the decision-point metrics need of a model (an nn.Module):

    model(idx[B,T]) -> logits[B,T,V];  model.new_cache(batch, max_len, device=None, dtype=None) -> cache;
    model(idx[B,t], cache=cache, start=int, pad=None) -> logits[B,t,V] (writes positions
    start..start+t-1 of the cache; pad[B] = left-padding per row, for mixed-length prompts);
    model.block_size: int (the longest sequence it can take); for beam search the cache also has
    reorder(rows) (row b becomes old row rows[b]).
    """

    block_size: int

    def __call__(self, idx: Any, cache: Any = None, start: int = 0, pad: Any = None) -> Any: ...

    def new_cache(self, batch: int, max_len: int, device: Any = None, dtype: Any = None) -> Any: ...


def check_decodable(cls: type, where: str) -> None:
    """Raise PlanError unless instances of `cls` can follow `DecodableModel` (checked at plan time on
    the class a family declares, and again on the built model)."""
    missing = [a for a in ("new_cache", "forward") if not callable(getattr(cls, a, None))]
    if missing:
        raise PlanError(f"{where}: model class {cls.__name__} does not follow the decode protocol "
                        f"(harness.interfaces.DecodableModel): missing {', '.join(missing)}")


class ModelFamily(Registered):
    """A named family of models (gpt-{L}L). `build` returns an nn.Module that follows `DecodableModel`."""

    name: ClassVar[str]  # display name, e.g. "gpt-{L}L"
    pattern: ClassVar[str]  # regex with named groups that become config fields, e.g. r"gpt-(?P<n_layer>\d+)L"
    #: the class `build` returns; the planner checks it follows the decode protocol
    model_class: ClassVar[type]

    @abstractmethod
    def build(self, vocab_size: int, block_size: int) -> "torch.nn.Module":
        """A freshly initialised model (seeded by the caller through torch.manual_seed)."""


@dataclass(slots=True)
class TrainData:
    """A packed training stream: samples concatenated, with a loss flag per target position."""

    tokens: np.ndarray  # int64 [N]
    loss: np.ndarray  # bool [N]: whether predicting tokens[j] (from tokens[:j]) is trained
    n_problems: int  # samples in the stream
    n_distinct: int  # distinct problems among them
    vocab_size: int
    sample_starts: np.ndarray  # int64 [n_problems], offsets of each sample in the stream


@dataclass(slots=True)
class TrainResult:
    metrics: dict[str, Any]
    curve: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    #: held-out evaluations during training: {"step", "tokens", metric: value, ...} per point
    evals: list[dict[str, float]] = field(default_factory=list)


class TrainerConfig(Config):
    """Fields every trainer config has: where the model starts."""

    init_from: str | None = Field(
        default=None,
        description="start from the final checkpoint of this condition's cell with the same seed "
        "(a spec of one condition, e.g. 'igsm×oracle×gpt-8L'); it runs first, or is reused if done. "
        "Its task and model must equal this cell's (same vocabulary and architecture)",
    )
    token_scale: float = Field(
        default=1.0, gt=0.0,
        description="train on token_scale × the budget's tokens, from token_scale × its training problems (a "
        "fine-tune's own budget; 2 = Physics of LMs' 'double-time' pretraining baseline)",
        json_schema_extra={"identity": "when_set"},
    )


class Trainer(Registered):
    """Fits a model to a packed stream under a token budget (from scratch, or from a parent cell's
    checkpoint when `config.init_from` names one: a fine-tuning stage)."""

    Config: ClassVar[type[TrainerConfig]]
    config: TrainerConfig

    @abstractmethod
    def fit(
        self,
        model: "torch.nn.Module",
        data: TrainData,
        budget: "Budget",
        device: "torch.device",
        seed: int,
        progress: Any = None,
        evaluate: Any = None,
    ) -> TrainResult:
        """Train in place. `progress(done_tokens, total_tokens, loss[, values])` may be called now and then;
        `values` is an optional dict of floats (`step`, `lr`, `tokens_per_s`, ...) that loggers plot.
        `evaluate(step) -> {metric: value}` (optional) scores the model held out; a trainer calls it
        in eval mode at `budget.curve_points` evenly spaced steps and returns the points in
        `TrainResult.evals` (a learning curve), excluding that time from its throughput."""

    @property
    def loss_on(self) -> Literal["all", "completion"]:
        """Which tokens carry loss: all (the prompt too, as MazeGPT trains) or the completion only.
        Tags a task or corruptor masks (`Tag.PROMPT_NOLOSS`, masked mistakes) never do."""
        return "all"

    def inference_context(self, device: Any) -> Any:
        """The context the trained model is scored in (learning-curve points, the final evaluation,
        decision points): a context manager, by default none (the weights' own dtype). A trainer that
        trains in reduced precision returns that precision (e.g. bf16 autocast on CUDA), so a model
        is scored the way it was trained, and the decoders' KV caches follow it (a cache made under
        autocast stores the autocast dtype: half the bytes each decode step reads)."""
        import contextlib

        return contextlib.nullcontext()


# --------------------------------------------------------------------------------------- decoders
class Decoder(Registered):
    """Turns eval prompts into completion ids with a trained model.

    A decoder that acts on the task's steps sets `needs_task`: `generate` then also receives
    `task=` and `problems=` and returns `(ids, extras)` per prompt, where `extras` (numbers, e.g.
    retries used) become item columns `decode_<name>`; the means of those it declares in `metrics`
    become results columns `decode.<name>`."""

    needs_task: ClassVar[bool] = False
    metrics: ClassVar[tuple[Any, ...]] = ()

    def summarize(self, extras: Sequence[dict[str, Any]]) -> dict[str, float]:
        """The cell's value of each declared metric from the items' extras (default: the mean)."""
        out = {}
        for m in self.metrics:
            xs = [float(e[m.name]) for e in extras if isinstance(e.get(m.name), (int, float))]
            if xs:
                out[m.name] = sum(xs) / len(xs)
        return out

    @abstractmethod
    def generate(
        self,
        model: "torch.nn.Module",
        prompts: Sequence[np.ndarray],
        *,
        end_token: int,
        max_new_tokens: Sequence[int],
        batch_size: int,
        device: "torch.device",
        seed: int,
    ) -> list[list[int]]:
        """Completion ids per prompt, in the prompts' order, each ending at `end_token` if produced
        within its cap. Reproducible from `seed` alone."""


# ------------------------------------------------------------------------------------- executors
class Executor(Registered):
    """Runs cells somewhere (this process, a local process pool; a cluster as a plugin).

    The runner hands it an iterable of cells whose dependencies are finished and a picklable `job`;
    the executor calls `job(cell, emit)` for each (in whatever process or machine it likes), where
    `emit(event)` must deliver the job's lifecycle events (harness.events) back to the caller's `emit`,
    and yields `(cell, results row)` as each cell ends. It should take the next cell from the iterable
    only when it has room to start it: the runner claims each cell as it is taken (harness.claims), so
    a greedy executor would hoard cells other processes on the same directory could run. A job never
    raises (a failing cell returns a failed row); an executor that loses a job (a dead worker) yields a
    failed row saying so.

    An executor whose workers are themselves `harness` runners claiming cells from the shared directory
    (a Slurm array of workers) sets `claims_cells = False`: the runner then hands it the cells unclaimed."""

    #: False if the executor's own workers claim cells in the run directory
    claims_cells: ClassVar[bool] = True

    @abstractmethod
    def run(self, cells: Any, job: Any, emit: Any) -> Any:
        """Iterator of (cell, row) in completion order."""

    def layout(self) -> str:
        """Where cells run, in words, for the person running the grid."""
        return f"executor {self.name}"

    def placement(self, device: str) -> str:
        """Where cells run on `device` (recorded in run.json as the run's placement)."""
        return self.layout()


# --------------------------------------------------------------------------------------- loggers
class Logger(Registered):
    """Sends a run's lifecycle elsewhere (Weights & Biases, TensorBoard): chosen per run with
    `harness run --log NAME[(k=v,...)]`, an instance is registered with the plugin manager for that
    run, so it implements any lifecycle hooks (`harness_cell_progress`, `harness_cell_end`, ...) as
    methods marked with `@hookimpl`. Like every observer it is called in the main process, also for
    cells that ran in workers; one that raises is switched off and the run goes on. `close()` runs
    once the run ends (also when it was interrupted)."""

    def close(self) -> None:
        """Flush and close whatever the logger opened."""


# -------------------------------------------------------------------------------------- analyses
class Analysis(Registered):
    """Runs over a finished run directory (probes, extra statistics) after training.

    The core gives it the run directory and a fresh output folder; what it writes there appears at
    `DIR/analyses/<name>-<id>/` all at once when it returns (written to a temporary folder, then
    renamed), and is reused, not recomputed, while the analysis, its config and the run's finished
    cells are unchanged."""

    @abstractmethod
    def run(self, run_dir: Path, out: Path, log: Any) -> dict[str, Any]:
        """Write outputs under `out`; return a small JSON summary (stored in done.json)."""
