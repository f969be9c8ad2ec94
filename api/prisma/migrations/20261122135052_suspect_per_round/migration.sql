-- DropIndex
DROP INDEX "SuspectedChild_campaignId_childId_key";

-- CreateIndex
CREATE UNIQUE INDEX "SuspectedChild_campaignId_childId_round_key" ON "SuspectedChild"("campaignId", "childId", "round");
