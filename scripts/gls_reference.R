# Reference fit of the SAP's MMRM with R nlme::gls: general correlation (corSymm) and a variance per
# visit (varIdent), REML: the unstructured covariance of SAS's TYPE=UN and R mmrm's us().
#
#   Rscript scripts/gls_reference.R fit   IN.csv OUT.csv
#   Rscript scripts/gls_reference.R bench IN.csv OUT.csv REPS
#
# IN.csv: outcome, participant_id, arm, visit, aval, base, fas (0/1), control, active, visits
# (visits: the post-baseline visit levels in order, separated by "|").
# fit:   one row per outcome and visit: the contrast active - control (estimate and model-based SE
#        from vcov(gls)), and the REML log-likelihood.
# bench: seconds per gls fit per outcome with gls's default control (mean of REPS fits timed inside R;
#        start-up not counted).
suppressPackageStartupMessages(library(nlme))
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))),
                 "r_reference_common.R"))

args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]
d <- read.csv(args[2], stringsAsFactors = FALSE)
out_file <- args[3]
# optim (BFGS): gls then iterates with reltol 100 * machine epsilon after its first pass; nlminb
# stops at its default relative tolerance (1e-10 of -logLik), a few 1e-6 from the optimum.
control <- glsControl(maxIter = 500, msMaxIter = 5000, tolerance = 1e-12, msTol = 1e-14,
                      opt = "optim", optimMethod = "BFGS")

model_rows <- function(rows) {
  rows <- sap_model_rows(rows)
  rows[order(rows$participant_id, rows$visit_index), ]
}

fit_gls <- function(rows, control = glsControl()) {
  gls(aval ~ base_c + visit + arm + visit:arm, data = rows, method = "REML",
      correlation = corSymm(form = ~ visit_index | participant_id),
      weights = varIdent(form = ~ 1 | visit), control = control)
}

contrasts <- function(m, rows) {
  beta <- coef(m)
  V <- vcov(m)
  visits <- levels(rows$visit)
  active <- paste0("arm", levels(rows$arm)[2])
  do.call(rbind, lapply(seq_along(visits), function(k) {
    L <- setNames(numeric(length(beta)), names(beta))
    L[active] <- 1
    if (k > 1) L[paste0("visit", visits[k], ":", active)] <- 1
    data.frame(outcome = rows$outcome[1], visit = visits[k], estimate = sum(L * beta),
               se = sqrt(drop(t(L) %*% V %*% L)), loglik_reml = as.numeric(logLik(m)))
  }))
}

by_outcome <- split(d, d$outcome)
if (mode == "fit") {
  write.csv(fit_each_outcome(by_outcome, function(rows) { r <- model_rows(rows); contrasts(fit_gls(r, control), r) }),
            out_file, row.names = FALSE)
} else if (mode == "bench") {
  reps <- as.integer(args[4])
  timed <- lapply(by_outcome, function(rows) {
    r <- model_rows(rows)
    m <- tryCatch(fit_gls(r), error = function(e) NULL)  # warm-up
    if (is.null(m)) return(data.frame(outcome = rows$outcome[1], seconds = NA))
    start <- proc.time()[["elapsed"]]
    for (i in seq_len(reps)) m <- fit_gls(r)
    data.frame(outcome = rows$outcome[1], seconds = (proc.time()[["elapsed"]] - start) / reps)
  })
  write.csv(do.call(rbind, timed), out_file, row.names = FALSE)
} else {
  stop("mode must be 'fit' or 'bench'")
}
