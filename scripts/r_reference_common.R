# Shared by lmer_reference.R and gls_reference.R (sourced): one CSV row set per outcome, errors kept.

# fit(rows) for every outcome's rows; an outcome whose fit fails gets one row with its error message.
fit_each_outcome <- function(by_outcome, fit) {
  results <- lapply(by_outcome, function(rows) {
    tryCatch(fit(rows),
             error = function(e) data.frame(outcome = rows$outcome[1], visit = NA, error = conditionMessage(e)))
  })
  keep <- Reduce(union, lapply(results, names))
  do.call(rbind, lapply(results, function(r) { r[setdiff(keep, names(r))] <- NA; r[keep] }))
}

