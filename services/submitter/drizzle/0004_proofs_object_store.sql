-- A proof's bytes are in its row (the Postgres store) or in an S3 bucket under `object_key` (the S3
-- store, SUBMITTER_PROOF_STORE=s3), exactly one of the two; the hash and size checks apply where the
-- bytes are in the row. Rows written before keep their bytes. ALTER TABLE fires no row trigger, so the
-- append-only trigger of 0002_proofs stays as it is. Comment written by hand.
ALTER TABLE "submitter"."proofs" DROP CONSTRAINT "proofs_sha256";--> statement-breakpoint
ALTER TABLE "submitter"."proofs" DROP CONSTRAINT "proofs_size";--> statement-breakpoint
ALTER TABLE "submitter"."proofs" ALTER COLUMN "bytes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "submitter"."proofs" ADD COLUMN "object_key" text;--> statement-breakpoint
ALTER TABLE "submitter"."proofs" ADD CONSTRAINT "proofs_bytes_or_object" CHECK (("submitter"."proofs"."bytes" is null) <> ("submitter"."proofs"."object_key" is null));--> statement-breakpoint
ALTER TABLE "submitter"."proofs" ADD CONSTRAINT "proofs_sha256_hex" CHECK ("submitter"."proofs"."sha256" ~ '^[0-9a-f]{64}$');--> statement-breakpoint
ALTER TABLE "submitter"."proofs" ADD CONSTRAINT "proofs_sha256" CHECK ("submitter"."proofs"."bytes" is null or "submitter"."proofs"."sha256" = encode(sha256("submitter"."proofs"."bytes"), 'hex'));--> statement-breakpoint
ALTER TABLE "submitter"."proofs" ADD CONSTRAINT "proofs_size" CHECK ("submitter"."proofs"."bytes" is null or "submitter"."proofs"."size" = octet_length("submitter"."proofs"."bytes"));