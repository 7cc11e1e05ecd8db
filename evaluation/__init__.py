"""Evaluation of the product's retrieval and answering on third-party and our own QA data.

Apart from the product package on purpose: it reads `../shared/data` beside the checkout and
`benchmarks/data/`, which the wheel must not carry. Run it as `python -m evaluation DATASET`.
"""
