"""Gunicorn settings for ``make run``: access and error logs with personal numbers masked.

Search forms put phones and ID numbers into URLs; the access log writes URLs. The logger
class below adds ``portal.logmask.MaskingFilter`` to gunicorn's own handlers each time it
sets them up (at start and on a configuration reload).
"""

from gunicorn.glogging import Logger

from portal.logmask import install_log_masking


class MaskingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        install_log_masking(self.error_log, self.access_log)


logger_class = MaskingLogger
