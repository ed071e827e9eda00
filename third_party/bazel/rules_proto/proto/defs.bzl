"""Offline shim: forwards rules_proto's macro to Bazel's native rule."""

def proto_library(**kwargs):
    native.proto_library(**kwargs)
