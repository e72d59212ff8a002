"""One kit of fakes: each vendor's API as a real HTTP server on loopback, for the tests, the demo
and the benchmarks alike. The base and its knobs: `fakes.base`; one module per vendor; the
pytest fixtures: `fakes.pytest_plugin`; what each fake models: integrations/<vendor>/FAKE.md."""
