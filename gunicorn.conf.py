"""Gunicorn settings for ``make run``: access and error logs with personal numbers masked.

Search forms put phones and ID numbers into URLs; the access log writes URLs. The logger
class below adds ``portal.logmask.MaskingFilter`` to gunicorn's own handlers each time it
sets them up (at start and on a configuration reload).
"""

import gc

from gunicorn.glogging import Logger

from portal.logmask import install_log_masking


class MaskingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        install_log_masking(self.error_log, self.access_log)


logger_class = MaskingLogger


def post_worker_init(worker):
    """Load the smart-intake model (scikit-learn, the model file, jieba's dictionary) as the
    worker starts, so the first suggestion a clerk waits for takes milliseconds, not the
    seconds a cold load costs. A failure only logs: suggestions then load on first use."""
    try:
        from cases.smart_intake.warm import warm_up

        warm_up(worker.wsgi)
    except Exception:  # noqa: BLE001 (a warm-up must never stop a worker)
        worker.log.exception("smart intake: warm-up failed")
    # What is loaded now (the app, jieba's dictionary, the model) lives as long as the
    # worker: move it out of the collector's reach, so a full collection no longer walks
    # millions of dictionary objects (~140 ms, on some request every few dozen).
    gc.freeze()
