"""scikit-learn's `GridSearchCV` and `RandomizedSearchCV`, each candidate a Ray Tune trial:
change one import (`from raysearch.sklearn import GridSearchCV`) and keep the rest, skorch nets
included. See the classes and README "Coming from scikit-learn / skorch"."""

from raysearch.sklearn.search import GridSearchCV, RandomizedSearchCV

__all__ = ["GridSearchCV", "RandomizedSearchCV"]
