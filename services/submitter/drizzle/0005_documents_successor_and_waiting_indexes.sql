-- Two small partial indexes on documents (docs/decisions.md, "Queued successors and waiting
-- credentials from partial indexes"): the queued operations that follow another (chain_sequence > 1),
-- and the credentials with queued or blocked documents. Comment written by hand.
CREATE INDEX "documents_queued_successors" ON "submitter"."documents" USING btree ("tenant_id","chain_key","chain_sequence") WHERE "submitter"."documents"."state" = 'queued' and "submitter"."documents"."chain_sequence" > 1;--> statement-breakpoint
CREATE INDEX "documents_waiting_credentials" ON "submitter"."documents" USING btree ("state","credential_id","tenant_id") WHERE "submitter"."documents"."state" in ('queued', 'blocked');