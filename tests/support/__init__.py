"""Helpers the tests import (never collected): the app's test settings, browsers, stand-ins."""
