"""Test doubles shared by every test module: one callback shim, one moto server (see the submodules)."""
