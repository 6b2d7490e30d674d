"""Another suite's test module, loaded by path under a name of the caller's, for what it defines (a table of
scenarios, a normalization), without pytest collecting its tests a second time."""
import importlib.util


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
