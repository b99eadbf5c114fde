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


# The SAP's model rows of one outcome: FAS, non-missing aval and base, the two arms (control first);
# base_c centred over these rows; visit a factor of the visits in order (column `visits`, "|"-separated).
sap_model_rows <- function(rows) {
  visits <- strsplit(rows$visits[1], "|", fixed = TRUE)[[1]]
  rows <- rows[rows$fas == 1 & !is.na(rows$aval) & !is.na(rows$base) &
               rows$arm %in% c(rows$control[1], rows$active[1]), ]
  rows$base_c <- rows$base - mean(rows$base)
  rows$visit <- factor(rows$visit, levels = visits)
  rows$visit_index <- as.integer(rows$visit)
  rows$arm <- factor(rows$arm, levels = c(rows$control[1], rows$active[1]))
  rows
}
