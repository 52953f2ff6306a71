"""Project tools by job: generate/ (checked-in files, --check), report/ (prints and checks), setup/ (the
environment); run from the root as modules, python -m tools.<job>.<name>, and imported by tests (tools/README.md)."""
