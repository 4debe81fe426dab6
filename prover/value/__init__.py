"""Energy-based value model: GoalConditionedEnergyHead, encoder client, batch scorer. No Django."""
