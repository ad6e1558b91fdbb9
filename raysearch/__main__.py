from raysearch.cli import console

console()
