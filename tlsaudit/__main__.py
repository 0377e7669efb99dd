from tlsaudit.cli import run

run()
