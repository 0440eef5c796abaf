from resiliopt.cli import run

run()
