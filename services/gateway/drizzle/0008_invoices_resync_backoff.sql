DROP INDEX "gateway"."invoices_unsettled";--> statement-breakpoint
ALTER TABLE "gateway"."invoices" ADD COLUMN "next_resync_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "invoices_unsettled" ON "gateway"."invoices" USING btree ("next_resync_at","status_at") WHERE "gateway"."invoices"."status" not in ('received', 'accepted', 'accepted_with_warnings', 'rejected');