-- The player crosswalk: raw gsis_id -> the league-wide player_id.
select
    cast(gsis_id as varchar) as gsis_id,
    cast(player_id as bigint) as player_id,
    cast(display_name as varchar) as display_name,
    cast(position as varchar) as position,
    cast(current_team as varchar) as current_team
from {{ ref('raw_players') }}
