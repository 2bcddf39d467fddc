-- The NUMA nodes commissioning found, as MAAS's numanode_set renders them
-- ([{index, memory, cores, hugepages_set}]); NULL: none reported, the
-- machine shows MAAS's default node.
ALTER TABLE machines ADD COLUMN numa_nodes jsonb;
