"""What tests share: database and client fixtures, keys, factories, the live server.

`tests/conftest.py` loads the fixture modules as plugins, so every test sees them; test
modules import helpers from here only, never from one another.
"""
