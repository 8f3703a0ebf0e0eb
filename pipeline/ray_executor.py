"""`runtime.executor: ray`: translation and summarization on a Ray cluster.

The driver ships each planned group of articles (the same groups the local executor makes, so
the same sentences share the same batches and the briefs come out the same) into Ray's object
store, and a Ray Data pipeline runs two `map_batches` stages over actor pools: translation, then
summarization. Each actor builds the pipeline's stages once and keeps its models loaded (one
load per model per actor, CTranslate2 as configured; `num_gpus` per actor when the device is
CUDA). Finished groups stream back to the driver in plan order, which commits each article as it
arrives, so the driver's memory holds a group at a time and a killed driver loses nothing
finished.

A worker process that dies is restarted and its group retried (`runtime.ray_max_restarts`); past
that the group's articles are listed as failed (retried next run) and the run goes on.

Ray is an optional dependency (`pip install newsbrief[ray]`), imported only here.
"""

from __future__ import annotations

import logging
import math
import pickle
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ArticleError, ConfigError, WorkerLostError
from pipeline.executor import Executor, Finished, Stages, summarize_step, translate_step

if TYPE_CHECKING:
    from pipeline.article import Article
    from pipeline.config import Config
    from pipeline.models import RuntimeOptions

log = logging.getLogger("newsbrief.ray")

PACKAGE_DIR = Path(__file__).resolve().parent


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"runtime.executor is `ray` but Ray cannot be imported ({exc}): pip install 'newsbrief[ray]'"
        ) from None
    return ray


def connect(runtime: RuntimeOptions, **local: Any) -> bool:
    """Joins the cluster `runtime.ray_address` names, or starts a local one; returns whether
    this call connected (and so should disconnect). `local` are ray.init's arguments for the
    cluster `ray_address: local` starts (num_cpus=…, object_store_memory=…): tests size it so.

    The workers run this driver's copy of the package (`py_modules`): a node with an older
    newsbrief installed would otherwise write different briefs.
    """
    ray = _import_ray()
    if ray.is_initialized():  # a notebook or a test already connected: use that cluster
        return False
    kwargs: dict[str, Any] = {
        "runtime_env": {"py_modules": [str(PACKAGE_DIR)]},
        "logging_level": logging.WARNING,
        "configure_logging": False,  # newsbrief's own CLI configures logging
    }
    address = runtime.ray_address
    if address == "auto":
        # Ray's own discovery: RAY_ADDRESS, else the head `ray start --head` left its address for
        # on this machine, else a new local cluster with every core and GPU of the machine.
        ray.init(include_dashboard=False, **kwargs)
    elif address == "local":  # always a new local cluster (tests size it with `local`)
        ray.init(address="local", include_dashboard=False, **kwargs, **local)
    else:
        ray.init(address=address, **kwargs)
    return True


def describe_cluster() -> str:
    """`ray (2 nodes, 16 CPUs, 1 GPU)`: what the digest says ran the models."""
    ray = _import_ray()
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)

    def n(value: float, unit: str) -> str:
        shown = int(value) if float(value).is_integer() else value
        return f"{shown} {unit}{'' if shown == 1 else 's'}"

    return f"ray ({n(nodes, 'node')}, {n(cpus, 'CPU')}, {n(gpus, 'GPU')})"


class RayExecutor(Executor):
    def __init__(self, config: Config, factory: Callable[[Config], Stages]):
        self.ray = _import_ray()
        self.config = config
        self.factory = factory
        self._connected = self._started = False
        self.actor_args: dict[str, Any] = {}
        # Joining the cluster takes seconds: a run with nothing new to translate never does.
        self.description = "ray (not started: nothing to translate)"

    def _start(self) -> None:
        runtime = self.config.runtime
        self._connected, self._started = connect(runtime), True
        self.description = describe_cluster()
        gpus_in_cluster = self.ray.cluster_resources().get("GPU", 0)
        on_gpu = runtime.device == "cuda" or (runtime.device == "auto" and gpus_in_cluster > 0)
        # An actor's CTranslate2 threads match the CPUs it reserved: `threads: 0` (every core)
        # would make each of a node's actors spin every core.
        threads = runtime.threads or max(1, math.floor(runtime.ray_cpus_per_actor))
        self.config = self.config.model_copy(
            update={"runtime": runtime.model_copy(update={"threads": threads})}
        )
        self.actor_args = {
            "num_cpus": runtime.ray_cpus_per_actor,
            # A dead worker's actor is restarted and the group it held is retried on it.
            "max_restarts": runtime.ray_max_restarts,
            "max_task_retries": runtime.ray_max_restarts,
        }
        if on_gpu:
            self.actor_args["num_gpus"] = runtime.ray_gpus_per_actor
        log.info("executor: %s", self.description)

    def close(self) -> None:
        if self._connected and self.ray.is_initialized():
            self.ray.shutdown()
            self._connected = False

    def run(self, groups: Iterable[list[Article]]) -> Iterator[Finished]:
        from ray.data import DataContext
        from ray.data.exceptions import ExecutionTimeoutError, SystemException

        ray = self.ray
        refs, pending = self._put(groups)
        if not refs:
            return
        ctx = DataContext.get_current()
        saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars)
        # Plan order in, plan order out: brief names are given first come, first served, so the
        # same order gives the same names as the local executor.
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        try:
            dataset = self._steps(refs)
            del refs
            yield from self._finished(dataset, pending)
        except (ray.exceptions.RayError, SystemException, ExecutionTimeoutError) as exc:
            # A worker that died more often than ray_max_restarts (or a node lost for good):
            # what is finished is committed; the rest is listed below and retried next run.
            log.error("the Ray pipeline stopped: %s", str(exc).splitlines()[0])
        finally:
            ctx.execution_options.preserve_order, ctx.enable_progress_bars = saved
        yield from self._lost(pending)

    def _put(self, groups: Iterable[list[Article]]) -> tuple[list[Any], dict[int, list[str]]]:
        """The planned groups into the object store (spilled to disk if it fills), so the driver
        keeps only their references and, per group, its file names."""
        import pyarrow as pa

        refs, pending = [], {}
        for k, group in enumerate(groups):
            if group:
                if not self._started:
                    self._start()
                blob = pickle.dumps((group, [None] * len(group)), protocol=pickle.HIGHEST_PROTOCOL)
                refs.append(self.ray.put(pa.table({"k": [k], "group": [blob]})))
                pending[k] = [a.source_file for a in group]
        return refs, pending

    def _steps(self, refs: list[Any]) -> Any:
        """The groups through the two steps, each on its own pool of actors (a lazy Ray Dataset)."""
        from ray.data import ActorPoolStrategy

        most = self.config.runtime.ray_max_actors or None
        dataset = self.ray.data.from_arrow_refs(refs)
        for step in ("translate", "summarize"):
            with warnings.catch_warnings():
                # max_restarts and max_task_retries have no named parameter in Ray 2.60: they
                # can only go through the keyword arguments it says are deprecated.
                warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated")
                dataset = dataset.map_batches(
                    _StageActor,
                    fn_constructor_args=(self.config, self.factory, step),
                    batch_size=1,  # one planned group: its articles share the model's batches
                    batch_format="pyarrow",
                    compute=ActorPoolStrategy(min_size=1, max_size=most),
                    **self.actor_args,
                )
        return dataset

    def _finished(self, dataset: Any, pending: dict[int, list[str]]) -> Iterator[Finished]:
        """Each group's articles as they come back, in plan order; a group back is no longer pending."""
        for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0):
            rows = (batch[c].to_pylist() for c in ("k", "group", "loads"))
            for k, blob, loads in zip(*rows, strict=True):
                articles, errors = pickle.loads(blob)
                self.remote_loads += loads
                del pending[k]
                for article, error in zip(articles, errors, strict=True):
                    yield Finished(article.source_file, article, error)

    def _lost(self, pending: dict[int, list[str]]) -> Iterator[Finished]:
        """The articles of the groups that never came back, each failed with why."""
        for files in pending.values():
            for source_file in files:
                yield Finished(
                    source_file,
                    None,
                    WorkerLostError(
                        "lost on the Ray cluster: its worker died more often than it may be restarted"
                        f" (runtime.ray_max_restarts: {self.config.runtime.ray_max_restarts});"
                        " retried next run"
                    ),
                )


class _StageActor:
    """One Ray Data actor: builds the pipeline's stages once, then runs one step on each group."""

    def __init__(self, config: Config, factory: Callable[[Config], Stages], step: str):
        self.stages = factory(config)
        self.step = step

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"k": [], "group": [], "loads": []}
        store = getattr(self.stages, "store", None)
        earlier = batch["loads"].to_pylist() if "loads" in batch.column_names else [0] * batch.num_rows
        for k, blob, loaded in zip(batch["k"].to_pylist(), batch["group"].to_pylist(), earlier, strict=True):
            articles, errors = pickle.loads(blob)
            before = (store.loads if store else 0) - loaded  # the loads of the stages before this one
            if self.step == "translate":
                errors = translate_step(self.stages, articles)
            else:
                errors = summarize_step(self.stages, articles, errors)
            out["k"].append(k)
            out["group"].append(
                pickle.dumps((articles, [_portable(e) for e in errors]), protocol=pickle.HIGHEST_PROTOCOL)
            )
            out["loads"].append((store.loads if store else 0) - before)
        return out


def _portable(error: Exception | None) -> Exception | None:
    """The error as the driver can unpickle it; an unexpected one is logged here with its trace,
    which does not cross processes."""
    if error is None:
        return None
    if not isinstance(error, ArticleError):
        log.error("unexpected error on a Ray worker", exc_info=error)
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # an exception holding something unpicklable: keep its class name and text
        return RuntimeError(f"{type(error).__name__}: {error}")
