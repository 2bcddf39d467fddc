-- The options of a machine's latest commissioning (enable_ssh also of its
-- latest testing): the boot task hands enable_ssh and skip_bmc_config to the
-- agent; skip_networking and skip_storage decide what the results replace.
ALTER TABLE machines
    ADD COLUMN enable_ssh      boolean NOT NULL DEFAULT false,
    ADD COLUMN skip_bmc_config boolean NOT NULL DEFAULT false,
    ADD COLUMN skip_networking boolean NOT NULL DEFAULT false,
    ADD COLUMN skip_storage    boolean NOT NULL DEFAULT false;
