CREATE TABLE "credentials"."credential_secrets" (
	"credential_id" uuid NOT NULL,
	"field" text NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"encrypted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "credential_secrets_credential_id_field_pk" PRIMARY KEY("credential_id","field")
);
--> statement-breakpoint
ALTER TABLE "credentials"."credential_secrets" ADD CONSTRAINT "credential_secrets_credential_id_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "credentials"."credentials"("id") ON DELETE cascade ON UPDATE no action;