"""The programme's own rules and facts: definitions, targets, filters, Thai dates, the
language layer and the reference tables. Imports no other part of the project."""
