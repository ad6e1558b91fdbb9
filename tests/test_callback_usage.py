"""Ray Tune's usage record of a sweep's callbacks is the one Ray makes, without Ray importing
its logging integrations (mlflow with them) on the driver (raysearch.runner.callback_usage)."""

from __future__ import annotations

from ray.air._internal import usage
from ray.air.integrations.mlflow import MLflowLoggerCallback
from ray.tune import Callback
from ray.tune.logger import JsonLoggerCallback, LoggerCallback

from raysearch.runner.callback_usage import callback_usage_without_imports, count_callbacks


class Custom(Callback):
    pass


class CustomLogger(LoggerCallback):
    pass


class OwnMLflow(MLflowLoggerCallback):  # as raysearch's MLflow tracker is: a custom logger
    pass


def test_the_count_is_rays():
    callbacks = [Custom(), Custom(), CustomLogger(), JsonLoggerCallback(), MLflowLoggerCallback(),
                 OwnMLflow(), object()]
    ours = count_callbacks(callbacks)
    assert ours == dict(usage._count_callbacks(callbacks))
    assert ours == {"CustomCallback": 2, "CustomLoggerCallback": 2, "JsonLoggerCallback": 1,
                    "MLflowLoggerCallback": 1}
    assert count_callbacks(None) == {} == dict(usage._count_callbacks(None))


def test_rays_own_count_is_back_after_the_block():
    original = usage._count_callbacks
    with callback_usage_without_imports():
        assert usage._count_callbacks is count_callbacks
    assert usage._count_callbacks is original
