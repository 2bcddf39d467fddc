-- Boot images: the disk-erase options a release asked for (the boot task
-- reads them), and files found by content (uploads are stored by sha256).
ALTER TABLE machines
    ADD COLUMN erase_quick  boolean NOT NULL DEFAULT false,
    ADD COLUMN erase_secure boolean NOT NULL DEFAULT false;

CREATE INDEX boot_resource_files_sha256 ON boot_resource_files (sha256);
