"""flask-websub's hub as a process of its own: ``python -m tests._hub PORT DB``.

Its tasks run in-process in Celery's eager mode (no broker): a publish request fetches the
topic and posts it to every subscriber before it is answered.
"""

from __future__ import annotations

import logging
import sys
import warnings


def main(port: int, database: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party import-time deprecations
        from celery import Celery
        from flask import Flask
        from flask_websub.hub import Hub, SQLite3HubStorage
        from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    celery = Celery("hub", set_as_current=False)
    celery.conf.task_always_eager = True
    app = Flask("hub")
    app.config["PUBLISH_SUPPORTED"] = True
    hub = Hub(SQLite3HubStorage(database), celery, REQUEST_TIMEOUT=5)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    # One request at a time: its SQLite storage opens a connection per operation and sets WAL
    # on each, which concurrent subscriptions sometimes met with "database is locked" (a 500).
    make_server("127.0.0.1", port, app, threaded=False).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
