"""Pure Python core: models, status rules, classifiers, naming. Standard library only."""
