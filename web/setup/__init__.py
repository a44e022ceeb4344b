"""Set-up pages: the people who own a framework keep it themselves (national targets, funder goal
trees, indicators, targets, alignments, programmes, people), writing through the same services
as the API and the admin, so every rule and every recompute stays in one place."""
