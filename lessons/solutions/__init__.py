"""Exercise solutions, one module per lesson; tests/test_solutions.py runs them."""
