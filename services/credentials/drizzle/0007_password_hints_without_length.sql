-- Custom SQL migration file, put your code below! --
-- A password's hint says only that it is set: the lengths kept until now are dropped.
UPDATE "credentials"."credentials" SET "secret_hints" = jsonb_set("secret_hints", '{password}', '{"set": true}'::jsonb) WHERE "secret_hints" ? 'password';
