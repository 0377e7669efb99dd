import gc

gc.disable()  # nothing collectable is made while the modules load; run() turns collection back on

from tlsaudit.cli import run  # noqa: E402

run()
