-- Statistics of documents kept fresh while an import queues rows by the hundred thousand
-- (docs/decisions.md, "Queued successors and waiting credentials from partial indexes"): autovacuum
-- analyzes the table after 1,000 + 1% of its rows changed instead of 50 + 10%. Hand-written:
-- drizzle-kit cannot express storage parameters (generated with `drizzle-kit generate --custom`).
ALTER TABLE "submitter"."documents" SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
