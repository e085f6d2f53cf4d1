"""Where trials run: in this process (default); others answer the same `run` call."""

from loratune.executors.local import Executor, LocalExecutor, TrialHooks

__all__ = ["Executor", "LocalExecutor", "TrialHooks"]
